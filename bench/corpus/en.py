"""English support text: common words (most frequent first), stems that take English endings, and the
phrase patterns of a support conversation. Slots in braces are filled by bench.corpus.Writer."""

from bench.corpus.language import Language

LANGUAGE = Language(
    code="en",
    common="""
    the to and i a is it of you we in for not on this that my have be with our can are but please from
    your was at as has do if an or me since all there now would will so could us what when any no get
    after again still one does did they been also it's don't can't know just out some see need help
    problem issue error server email account password login access site website domain page working
    work works worked try tried trying today yesterday morning afternoon evening week time times minutes
    hours day days new old same other another first last next every only because before about into up
    down back more than then them their these those which who how why where here its he she his her
    were had should must may might very much many too also able unable seems seem looks look like
    think thanks thank hello hi dear regards best kind team support customer client user users service
    services invoice payment order orders renewal refund charge charged billing plan upgrade downgrade
    cancel cancelled subscription card bank transfer receipt vat amount price month monthly yearly
    annual due paid unpaid reminder mailbox inbox folder message messages spam blocked bounce bounced
    delivery delivered sending send sent receive received attachment attachments file files backup
    backups restore restored database databases disk space quota full usage traffic bandwidth limit
    slow slowly fast down outage offline online available unavailable timeout timed connection
    connect connected disconnected network dns record records nameserver nameservers certificate ssl
    expired expire expires renew installed install update updated updates upgrade version versions
    setting settings configuration config change changed changes panel control dashboard admin
    browser chrome firefox safari phone mobile laptop computer printer office home remote vpn firewall
    port ports blocked open closed reboot restart restarted rebooted log logs screenshot attached
    below above following shows showing says said message appears appeared happens happened
    sometimes always never often intermittent random randomly suddenly urgent asap important
    business customers colleagues everyone nobody someone staff production test staging live
    migration migrated move moved transfer transferred contract quote offer discount credit note
    address name company details information request requested confirm confirmed confirmation link
    reset code verification two-factor security hacked abuse complaint report reported phishing
    malware virus blacklist blacklisted listed ip address range server's provider host hosting
    """,
    stems="""
    connect configur restor migrat updat upgrad install reinstall schedul deliver bounc block unblock
    authenticat verif confirm renew expir cancel refund charg invoic process redirect forward resolv
    reboot restart monitor investigat escalat assign report compress encrypt decrypt synchroniz
    replicat mount unmount format partition allocat provision deploy rollback patch scan quarantin
    filter whitelist blacklist throttl cach index optimiz export import upload download backup check
    test reset lock unlock suspend reactivat transfer point propagat register validat sign queue retr
    """,
    endings=("", "s", "ed", "ing", "er", "ers", "ion", "ions", "ment", "able", "ation"),
    greetings=(
        "Hello,",
        "Hi,",
        "Hi {agent},",
        "Dear support,",
        "Hello team,",
        "Good morning,",
        "Dear Sir or Madam,",
    ),
    agent_greetings=("Hello {name},", "Hi {name},", "Dear {name},", "Good morning {name},"),
    problems=(
        "Since {date} our {service} on {host} is not working.",
        "We cannot log in to {product} any more, it says {error}.",
        "The {w} on {host} ({ip}) stopped responding this morning.",
        "Emails sent to {email} bounce with {error}.",
        "I was charged twice for order {order} and the invoice shows the wrong {w}.",
        "Our website is very slow since the last {w} and sometimes returns {error}.",
        "The backup of {host} failed again last night with {error}.",
        "Since the {w} update, {product} keeps asking for the password.",
        "We receive a lot of spam from {ip} and the {w} filter does not block it.",
        "Our server {ip} seems to be listed on a blacklist, customers cannot receive our emails.",
        "The certificate for {host} expired and the browser shows a warning.",
        "I need to change the {w} on my account, the {w} is not correct.",
        "The disk on {host} is full and the {service} does not start.",
        "The IPv6 address {ip6} is not reachable from outside since {date}.",
        "Our {product} subscription was cancelled although order {order} was paid.",
        "Users in the office get {error} when they open {service}.",
    ),
    details=(
        "The exact error is: {error}.",
        "It happens on {host} and {host2}, both behind {ip}.",
        "The log says {error} at {time}.",
        "This affects about {n} users.",
        "See also my previous ticket {ref}.",
        "My colleague {email} has the same problem.",
        "Order number: {order}.",
        "Server: {host} ({ip}).",
    ),
    context=(
        "We use the {w} together with the {w} and the {w} for our {w}.",
        "The {w} was changed last week by our {w} provider.",
        "Before that the {w} and the {w} worked without any {w}.",
        "Only the {w} in the {w} office is affected, the {w} works.",
        "Our {w} team noticed it first during the {w}.",
        "It started after we moved the {w} to the new {w}.",
        "The {w} report shows {n} {w} errors and a {w} warning.",
    ),
    tried=(
        "We already restarted the {service} and cleared the cache.",
        "I tried another browser and another {w}, same result.",
        "We checked the DNS records and the {w} looks fine.",
        "I reset the password twice but it still fails.",
        "Rebooting {host} did not help.",
        "We followed the guide for {product} step by step.",
        "I tried from my phone and from the office network.",
    ),
    questions=(
        "Can you please check what is wrong?",
        "Could you tell us when this will be fixed?",
        "Is there an outage on your side?",
        "What should we do next?",
        "Can you restore the {w} from yesterday's backup?",
        "Could you refund the duplicate charge?",
        "Please let me know if you need more information.",
        "Can you remove our IP {ip} from the block list?",
    ),
    thanks=("Thank you.", "Thanks in advance.", "Thanks for your help.", "Many thanks.", "Thanks a lot!"),
    closings=("Best regards,", "Kind regards,", "Regards,", "Best,", "Cheers,"),
    agent_answers=(
        "Thank you for contacting us.",
        "I checked {host} and the {service} was stopped; I restarted it and it works again.",
        "The problem was caused by a full disk on {host}: we freed some space.",
        "I have removed {ip} from the block list, it can take up to an hour to take effect.",
        "I refunded the duplicate charge for order {order}; you will see it in {n} days.",
        "The certificate for {host} has been renewed.",
        "Our engineers found a problem with the {w} on {host} and are working on it.",
        "Please clear the browser cache and try again.",
        "I raised the quota of the mailbox {email}.",
        "This is related to the known issue {ref}.",
        "The DNS change needs up to {n} hours to propagate.",
        "I restored the backup of {date} on {host}.",
    ),
    agent_questions=(
        "Could you send us a screenshot of the error?",
        "Which server is affected exactly?",
        "Can you confirm that it works now?",
        "Could you tell us the exact time it happened?",
        "Can you send us the full headers of one bounced email?",
    ),
    followups=(
        "Any news on this?",
        "It happened again at {time}.",
        "It works now, thank you!",
        "Unfortunately it still does not work, now it says {error}.",
        "Here is the screenshot you asked for.",
        "The problem is back since {date}.",
    ),
    notes=(
        "Checked {host}: {service} was down, restarted.",
        "Customer also wrote from {email}. Same {w}.",
        "Looks like {ref}, escalating to second level.",
        "Disk usage on {host} at {n}%, cleaned old logs.",
        "Refund approved for {order}.",
        "IP {ip} delisted, waiting for propagation.",
        "Do not close yet, waiting for the {w} fix.",
        "Called the customer, no answer.",
    ),
    subjects=(
        "{service} not working",
        "Cannot log in to {product}",
        "Error {error} on {host}",
        "Emails bounce: {error}",
        "Double charge on order {order}",
        "Website very slow",
        "Backup failed on {host}",
        "IP {ip} blacklisted",
        "Certificate expired for {host}",
        "Question about invoice {order}",
        "{product}: {w} problem",
        "Urgent: {service} down",
        "Re: {ref}",
    ),
    quote_header="On {date}, {sender} wrote:",
    first_names="""James Mary John Patricia Robert Jennifer Michael Linda David Elizabeth William Barbara
    Richard     Susan Joseph Jessica Thomas Sarah Charles Karen Emma Oliver Harry Sophie George Amelia""",
    last_names="""Smith Johnson Williams Brown Jones Miller Davis Wilson Taylor Anderson Thomas Moore Martin
    Jackson White Harris Clark Lewis Walker Hall Young Allen King Wright Green Baker""",
    company_forms=("{last} Ltd", "{last} & {last} LLP", "{last} Consulting", "{last} Logistics Inc."),
    signature="{first} {last}\n{company}\nPhone: {phone}",
    agent_signature="{first}\n{department} team",
    free_mail=("mail.example", "inbox.example"),
)
