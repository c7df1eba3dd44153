"""Italian support text: common words (most frequent first), stems that take Italian endings, and the
phrase patterns of a support conversation. Slots in braces are filled by bench.corpus.Writer."""

from bench.corpus.language import Language

LANGUAGE = Language(
    code="it",
    common="""
    il di che non la e è un per in a del una mi ho da con sono le il nostro ci si al della lo gli ma
    come anche se più già ancora ora oggi ieri mattina sera pomeriggio settimana giorno giorni ore
    minuti dopo prima sempre mai spesso volte volta tutto tutti nessuno qualcuno questo questa quello
    quella nel nella sul sulla dal dalla alle agli dei delle noi voi loro mio mia vostro vostra suo sua
    può possiamo potete riesco riusciamo funziona funzionano funzionava problema problemi errore
    errori server posta email account password accesso sito dominio pagina lavoro grazie buongiorno
    buonasera salve gentile gentili cordiali saluti distinti team assistenza supporto cliente clienti
    utente utenti servizio servizi fattura fatture pagamento ordine ordini rinnovo rimborso addebito
    addebitato abbonamento carta bonifico ricevuta iva importo prezzo mese mensile annuale scadenza
    pagato casella cartella messaggio messaggi spam bloccato bloccata rimbalzo consegna consegnato
    inviare inviato inviata ricevere ricevuto allegato allegati file backup ripristino ripristinare
    database disco spazio quota pieno utilizzo traffico banda limite lento lenta veloce irraggiungibile
    disservizio offline online disponibile timeout connessione connettere collegato scollegato rete
    dns record certificato scaduto scade rinnovare installato installare aggiornamento aggiornato
    versione impostazioni configurazione modifica modificato pannello controllo browser telefono
    cellulare portatile computer stampante ufficio casa remoto firewall porta porte aperta chiusa
    riavvio riavviato riavviare log schermata allegata seguente mostra dice compare appare succede
    successo improvvisamente urgente importante azienda colleghi personale produzione test migrazione
    migrato spostato trasferimento contratto preventivo offerta sconto nota credito indirizzo nome
    società dati informazioni richiesta confermare conferma link codice verifica sicurezza violato
    abuso segnalazione phishing malware virus blacklist elenco indirizzo fornitore hosting vi ci ne
    potreste potrebbe dovrebbe sembra credo penso vorrei chiedo chiediamo cortesemente prego fa stesso
    stessa altro altra nuovo nuova vecchio vecchia molto poco troppo solo però quindi perché quando
    dove cosa chi qui
    """,
    stems="""
    configur ripristin aggiorn install reinstall pianific consegn blocc sblocc autentic verific
    conferm rinnov scad annull rimbors addebit fattur elabor reindirizz inoltr risolv riavvi monitor
    analizz assegn segnal comprim cifr sincronizz replic mont formatt alloc distribu ripar scansion
    filtr ottimizz esport import caric scaric controll prov reimpost sospend riattiv trasfer registr
    convalid accod ritent collegh
    """,
    endings=("o", "a", "i", "e", "are", "ato", "ata", "ati", "azione", "azioni", "iamo", "ando"),
    greetings=(
        "Buongiorno,",
        "Salve,",
        "Gentile assistenza,",
        "Buongiorno {agent},",
        "Buonasera,",
        "Spettabile supporto,",
    ),
    agent_greetings=("Buongiorno {name},", "Gentile {name},", "Salve {name},", "Buonasera {name},"),
    problems=(
        "Da {date} il nostro {service} su {host} non funziona.",
        "Non riusciamo più ad accedere a {product}, compare l'errore {error}.",
        "Il {w} su {host} ({ip}) non risponde da stamattina.",
        "Le email inviate a {email} tornano indietro con {error}.",
        "Mi è stato addebitato due volte l'ordine {order} e la fattura riporta un {w} sbagliato.",
        "Il sito è molto lento dopo l'ultimo {w} e a volte restituisce {error}.",
        "Il backup di {host} è fallito di nuovo stanotte con {error}.",
        "Dopo l'aggiornamento del {w}, {product} continua a chiedere la password.",
        "Riceviamo molto spam da {ip} e il filtro {w} non lo blocca.",
        "Il nostro server {ip} risulta in blacklist, i clienti non ricevono le nostre email.",
        "Il certificato di {host} è scaduto e il browser mostra un avviso.",
        "Il disco di {host} è pieno e il {service} non parte.",
        "L'indirizzo IPv6 {ip6} non è raggiungibile dall'esterno da {date}.",
        "Il nostro abbonamento {product} è stato annullato anche se l'ordine {order} risulta pagato.",
        "Gli utenti in ufficio ricevono {error} quando aprono {service}.",
    ),
    details=(
        "L'errore esatto è: {error}.",
        "Succede su {host} e {host2}, entrambi dietro {ip}.",
        "Nel log compare {error} alle {time}.",
        "Il problema riguarda circa {n} utenti.",
        "Vedi anche il mio ticket precedente {ref}.",
        "Il mio collega {email} ha lo stesso problema.",
        "Numero d'ordine: {order}.",
        "Server: {host} ({ip}).",
    ),
    context=(
        "Usiamo il {w} insieme al {w} e al {w} per il nostro {w}.",
        "Il {w} è stato modificato la settimana scorsa dal fornitore {w}.",
        "Prima il {w} e il {w} funzionavano senza nessun {w}.",
        "È coinvolto solo il {w} dell'ufficio {w}, il {w} funziona.",
        "Il nostro team {w} se ne è accorto durante il {w}.",
        "È iniziato dopo lo spostamento del {w} sul nuovo {w}.",
        "Il report del {w} mostra {n} errori {w} e un avviso {w}.",
    ),
    tried=(
        "Abbiamo già riavviato il {service} e svuotato la cache.",
        "Ho provato con un altro browser e un altro {w}, stesso risultato.",
        "Abbiamo controllato i record DNS e il {w} sembra corretto.",
        "Ho reimpostato la password due volte ma non funziona.",
        "Il riavvio di {host} non ha risolto.",
        "Abbiamo seguito la guida di {product} passo per passo.",
    ),
    questions=(
        "Potete verificare cosa non va?",
        "Potreste dirci quando sarà risolto?",
        "C'è un disservizio da parte vostra?",
        "Cosa dobbiamo fare adesso?",
        "Potete ripristinare il {w} dal backup di ieri?",
        "Potete rimborsare l'addebito doppio?",
        "Fatemi sapere se servono altre informazioni.",
        "Potete togliere il nostro IP {ip} dalla blacklist?",
    ),
    thanks=("Grazie.", "Grazie in anticipo.", "Grazie per l'aiuto.", "Grazie mille.", "Vi ringrazio."),
    closings=("Cordiali saluti,", "Distinti saluti,", "Saluti,", "Un saluto,", "A presto,"),
    agent_answers=(
        "Grazie per averci contattato.",
        "Ho controllato {host}: il {service} era fermo, l'ho riavviato e ora funziona.",
        "Il problema era il disco pieno su {host}: abbiamo liberato spazio.",
        "Ho rimosso {ip} dalla blacklist, può servire fino a un'ora.",
        "Ho rimborsato l'addebito doppio dell'ordine {order}; lo vedrà entro {n} giorni.",
        "Il certificato di {host} è stato rinnovato.",
        "I nostri tecnici hanno trovato un problema al {w} su {host} e ci stanno lavorando.",
        "Provi a svuotare la cache del browser e a riprovare.",
        "Ho aumentato la quota della casella {email}.",
        "È collegato al problema noto {ref}.",
        "La modifica DNS richiede fino a {n} ore per propagarsi.",
        "Ho ripristinato il backup del {date} su {host}.",
    ),
    agent_questions=(
        "Può inviarci una schermata dell'errore?",
        "Quale server è coinvolto esattamente?",
        "Può confermare che ora funziona?",
        "Può indicarci l'ora esatta in cui è successo?",
        "Può inviarci le intestazioni complete di una email rifiutata?",
    ),
    followups=(
        "Ci sono novità?",
        "È successo di nuovo alle {time}.",
        "Ora funziona, grazie!",
        "Purtroppo non funziona ancora, adesso compare {error}.",
        "Ecco la schermata richiesta.",
        "Il problema si ripresenta da {date}.",
    ),
    notes=(
        "Controllato {host}: {service} fermo, riavviato.",
        "Il cliente ha scritto anche da {email}. Stesso {w}.",
        "Sembra {ref}, passo al secondo livello.",
        "Disco di {host} al {n}%, puliti i log vecchi.",
        "Rimborso approvato per {order}.",
        "IP {ip} rimosso dalla blacklist, attendo la propagazione.",
        "Non chiudere, aspettiamo la correzione del {w}.",
    ),
    subjects=(
        "{service} non funziona",
        "Impossibile accedere a {product}",
        "Errore {error} su {host}",
        "Email respinte: {error}",
        "Addebito doppio ordine {order}",
        "Sito molto lento",
        "Backup fallito su {host}",
        "IP {ip} in blacklist",
        "Certificato scaduto per {host}",
        "Domanda sulla fattura {order}",
        "{product}: problema con il {w}",
        "Urgente: {service} fermo",
        "R: {ref}",
    ),
    quote_header="Il giorno {date}, {sender} ha scritto:",
    first_names="""Giulia Marco Francesca Luca Chiara Alessandro Sara Matteo Valentina Andrea Elena Davide
    Federica Simone Martina Giorgio Paola Stefano Laura Roberto Anna Paolo Silvia Giuseppe""",
    last_names="""Rossi Russo Ferrari Esposito Bianchi Romano Colombo Ricci Marino Greco Bruno Gallo Conti
    De Luca Mancini Costa Giordano Rizzo Lombardi Moretti Barbieri Fontana Santoro Mariani""",
    company_forms=("{last} S.r.l.", "{last} & {last} S.n.c.", "Studio {last}", "{last} Logistica S.p.A."),
    signature="{first} {last}\n{company}\nTel. {phone}",
    agent_signature="{first}\nTeam {department}",
    free_mail=("posta.example", "mail.example"),
)
