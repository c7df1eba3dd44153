"""Polish support text: common words (most frequent first), stems that take Polish endings, and the
phrase patterns of a support conversation. Slots in braces are filled by bench.corpus.Writer."""

from bench.corpus.language import Language

LANGUAGE = Language(
    code="pl",
    common="""
    nie się w i na jest to z do że mam mamy jak ale od po o dla czy już jeszcze teraz dzisiaj wczoraj
    rano wieczorem tydzień dzień dni godziny godzin minut po przed zawsze nigdy często razy raz
    wszystko wszyscy nikt ktoś ten ta to tego tej ich nasz nasza nasze nasi wasz wasza mój moja
    mogę możemy możecie można działa działają działało problem problemy błąd błędy błędem serwer
    serwera poczta poczty email konto konta hasło hasła dostęp strona strony domena domeny praca
    dziękuję dzięki dzień dobry witam szanowni państwo pozdrawiam pozdrawiamy zespół pomoc wsparcie
    klient klienta klienci użytkownik użytkownicy usługa usługi faktura faktury płatność zamówienie
    zamówienia odnowienie zwrot obciążenie obciążono abonament karta przelew potwierdzenie vat kwota
    cena miesiąc miesięczny roczny termin zapłacone skrzynka folder wiadomość wiadomości spam
    zablokowany zablokowana odbita dostarczenie wysłać wysłana wysłałem odebrać otrzymałem załącznik
    załączniki plik pliki kopia zapasowa przywrócenie przywrócić baza danych dysk miejsce limit
    pełny użycie ruch transfer wolno wolna szybko niedostępny niedostępna awaria offline online
    dostępny timeout połączenie połączyć połączony rozłączony sieć dns rekord rekordy certyfikat
    wygasł wygasa odnowić zainstalowany zainstalować aktualizacja zaktualizowany wersja ustawienia
    konfiguracja zmiana zmieniony panel przeglądarka telefon komórka laptop komputer drukarka biuro
    dom zdalnie firewall port porty otwarty zamknięty restart zrestartowany logi zrzut ekranu
    poniżej powyżej pokazuje pojawia się dzieje stało nagle pilne ważne firma współpracownicy
    personel produkcja test migracja przeniesiony umowa oferta rabat nota korygująca adres nazwa
    dane informacje prośba proszę potwierdzić link kod weryfikacja bezpieczeństwo włamanie
    nadużycie zgłoszenie phishing malware wirus czarna lista adres dostawca hosting bardzo tylko
    więc dlaczego kiedy gdzie co kto tutaj tam też także sam sama inny inna nowy nowa stary stara
    może powinien wydaje myślę chciałbym chcielibyśmy uprzejmie
    """,
    stems="""
    konfigur przywróc aktualiz instal dostarcz blok odblok uwierzytel weryfik potwierdz odnow
    wygas anul zwróc obciąż fakturow przetwarz przekierow rozwiąz restartow monitor analiz przydziel
    zgłos kompres szyfr synchroniz replik montow formatow alok wdroż napraw skan filtr optymaliz
    eksport import wgr pobier sprawdz test resetow zawies reaktyw przenies rejestr walid kolejk
    """,
    endings=("a", "y", "ie", "ów", "ami", "owy", "owa", "owe", "ować", "owany", "owana", "ujemy", "ują"),
    greetings=("Dzień dobry,", "Witam,", "Szanowni Państwo,", "Dzień dobry {agent},", "Cześć,"),
    agent_greetings=("Dzień dobry {name},", "Witam {name},", "Witam serdecznie,", "Dzień dobry,"),
    problems=(
        "Od {date} nasz {service} na {host} nie działa.",
        "Nie możemy zalogować się do {product}, pojawia się błąd {error}.",
        "Od rana {w} na {host} ({ip}) nie odpowiada.",
        "Wiadomości wysłane na {email} wracają z błędem {error}.",
        "Zamówienie {order} zostało obciążone dwa razy, a na fakturze jest zły {w}.",
        "Strona działa bardzo wolno od ostatniej zmiany {w} i czasem zwraca {error}.",
        "Kopia zapasowa {host} znowu nie powiodła się w nocy: {error}.",
        "Po aktualizacji {w} {product} ciągle prosi o hasło.",
        "Dostajemy dużo spamu z {ip}, a filtr {w} go nie blokuje.",
        "Nasz serwer {ip} jest na czarnej liście, klienci nie dostają naszych wiadomości.",
        "Certyfikat dla {host} wygasł i przeglądarka pokazuje ostrzeżenie.",
        "Dysk na {host} jest pełny i {service} się nie uruchamia.",
        "Adres IPv6 {ip6} jest niedostępny z zewnątrz od {date}.",
        "Abonament {product} został anulowany, chociaż zamówienie {order} jest opłacone.",
        "Użytkownicy w biurze dostają {error} przy otwieraniu {service}.",
    ),
    details=(
        "Dokładny błąd: {error}.",
        "Dzieje się to na {host} i {host2}, oba za {ip}.",
        "W logach jest {error} o {time}.",
        "Problem dotyczy około {n} użytkowników.",
        "Proszę zobaczyć też moje poprzednie zgłoszenie {ref}.",
        "Mój współpracownik {email} ma ten sam problem.",
        "Numer zamówienia: {order}.",
        "Serwer: {host} ({ip}).",
    ),
    context=(
        "Używamy {w} razem z {w} i {w} do naszego {w}.",
        "W zeszłym tygodniu dostawca {w} zmienił {w}.",
        "Wcześniej {w} i {w} działały bez żadnego {w}.",
        "Dotyczy to tylko {w} w biurze {w}, {w} działa.",
        "Nasz zespół {w} zauważył to pierwszy podczas {w}.",
        "Zaczęło się po przeniesieniu {w} na nowy {w}.",
        "Raport {w} pokazuje {n} błędów {w} i ostrzeżenie {w}.",
    ),
    tried=(
        "Zrestartowaliśmy już {service} i wyczyściliśmy pamięć podręczną.",
        "Próbowałem w innej przeglądarce i na innym {w}, bez zmian.",
        "Sprawdziliśmy rekordy DNS i {w} wygląda poprawnie.",
        "Dwa razy resetowałem hasło, ale nadal nie działa.",
        "Restart {host} nie pomógł.",
        "Postępowaliśmy krok po kroku według instrukcji {product}.",
    ),
    questions=(
        "Czy mogą Państwo sprawdzić, co jest nie tak?",
        "Kiedy to zostanie naprawione?",
        "Czy jest awaria po Państwa stronie?",
        "Co powinniśmy teraz zrobić?",
        "Czy można przywrócić {w} z wczorajszej kopii?",
        "Proszę o zwrot podwójnej płatności.",
        "Proszę dać znać, jeśli potrzebne są dodatkowe informacje.",
        "Czy mogą Państwo usunąć nasz adres {ip} z czarnej listy?",
    ),
    thanks=("Dziękuję.", "Z góry dziękuję.", "Dziękuję za pomoc.", "Dzięki.", "Bardzo dziękuję."),
    closings=("Pozdrawiam,", "Z poważaniem,", "Pozdrawiamy,", "Serdecznie pozdrawiam,"),
    agent_answers=(
        "Dziękujemy za kontakt.",
        "Sprawdziłem {host}: {service} był zatrzymany, uruchomiłem go ponownie i działa.",
        "Przyczyną był pełny dysk na {host}: zwolniliśmy miejsce.",
        "Usunąłem {ip} z czarnej listy, zmiana może potrwać do godziny.",
        "Zwróciłem podwójną płatność za zamówienie {order}; środki wrócą w ciągu {n} dni.",
        "Certyfikat dla {host} został odnowiony.",
        "Nasi technicy znaleźli problem z {w} na {host} i nad nim pracują.",
        "Proszę wyczyścić pamięć przeglądarki i spróbować ponownie.",
        "Zwiększyłem limit skrzynki {email}.",
        "To jest związane ze znanym problemem {ref}.",
        "Zmiana DNS może potrwać do {n} godzin.",
        "Przywróciłem kopię z {date} na {host}.",
    ),
    agent_questions=(
        "Czy mogą Państwo przesłać zrzut ekranu błędu?",
        "Którego serwera dokładnie dotyczy problem?",
        "Czy mogą Państwo potwierdzić, że teraz działa?",
        "O której godzinie dokładnie to się stało?",
        "Proszę przesłać pełne nagłówki jednej odbitej wiadomości.",
    ),
    followups=(
        "Czy są jakieś nowe informacje?",
        "Znowu się to stało o {time}.",
        "Teraz działa, dziękuję!",
        "Niestety nadal nie działa, teraz pojawia się {error}.",
        "W załączniku zrzut ekranu.",
        "Problem wrócił od {date}.",
    ),
    notes=(
        "Sprawdzone {host}: {service} leżał, zrestartowany.",
        "Klient pisał też z {email}. Ten sam {w}.",
        "Wygląda jak {ref}, przekazuję do drugiej linii.",
        "Dysk {host} zajęty w {n}%, usunięte stare logi.",
        "Zwrot zatwierdzony dla {order}.",
        "IP {ip} zdjęte z listy, czekamy na propagację.",
        "Nie zamykać, czekamy na poprawkę {w}.",
    ),
    subjects=(
        "{service} nie działa",
        "Nie mogę zalogować się do {product}",
        "Błąd {error} na {host}",
        "Odbite wiadomości: {error}",
        "Podwójne obciążenie za zamówienie {order}",
        "Strona bardzo wolna",
        "Nieudana kopia zapasowa na {host}",
        "IP {ip} na czarnej liście",
        "Wygasły certyfikat dla {host}",
        "Pytanie o fakturę {order}",
        "{product}: problem z {w}",
        "Pilne: {service} nie działa",
        "Odp: {ref}",
    ),
    quote_header="W dniu {date} {sender} napisał(a):",
    first_names="""Anna Piotr Katarzyna Krzysztof Małgorzata Andrzej Agnieszka Tomasz Barbara Paweł Ewa Michał
    Magdalena Marcin Joanna Jakub Monika Łukasz Aleksandra Grzegorz Zofia Wojciech""",
    last_names="""Nowak Kowalski Wiśniewski Wójcik Kowalczyk Kamiński Lewandowski Zieliński Szymański Woźniak
    Dąbrowski Kozłowski Jankowski Mazur Kwiatkowski Krawczyk Piotrowski Grabowski""",
    company_forms=("{last} sp. z o.o.", "{last} i {last} s.c.", "Biuro {last}", "{last} Logistyka S.A."),
    signature="{first} {last}\n{company}\ntel. {phone}",
    agent_signature="{first}\nZespół {department}",
    free_mail=("poczta.example", "skrzynka.example"),
)
