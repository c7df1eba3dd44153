"""French support text: common words (most frequent first), stems that take French endings, and the
phrase patterns of a support conversation. Slots in braces are filled by bench.corpus.Writer."""

from bench.corpus.language import Language

LANGUAGE = Language(
    code="fr",
    common="""
    le de la les et à un une pas ne est il nous je en du des que qui pour sur dans avec au aux ce cette
    ces notre nos votre vos mon ma mes son sa ses plus depuis encore déjà maintenant aujourd'hui hier
    matin soir après-midi semaine jour jours heures minutes après avant toujours jamais souvent fois
    tout tous personne quelqu'un celui celle nous vous ils elles pouvez pouvons peux fonctionne
    fonctionnent fonctionnait marche problème problèmes erreur erreurs serveur messagerie email compte
    mot passe accès site domaine page travail merci bonjour bonsoir madame monsieur cordialement
    salutations équipe assistance support client clients utilisateur utilisateurs service services
    facture factures paiement commande commandes renouvellement remboursement prélèvement prélevé
    abonnement carte virement reçu tva montant prix mois mensuel annuel échéance payé boîte dossier
    message messages spam bloqué bloquée rejet livraison livré envoyer envoyé recevoir reçu pièce
    jointe fichier fichiers sauvegarde restauration restaurer base données disque espace quota plein
    utilisation trafic bande passante limite lent lente rapide inaccessible panne hors ligne
    disponible délai connexion connecter connecté déconnecté réseau dns enregistrement certificat
    expiré expire renouveler installé installer mise jour version paramètres configuration
    modification modifié panneau contrôle navigateur téléphone portable ordinateur imprimante bureau
    maison distance pare-feu port ports ouvert fermé redémarrage redémarré journaux capture écran
    ci-dessous ci-dessus affiche indique apparaît arrive arrivé soudain urgent important entreprise
    collègues personnel production test migration migré déplacé transfert contrat devis offre remise
    avoir adresse nom société informations demande confirmer confirmation lien code vérification
    sécurité piraté abus signalement hameçonnage logiciel malveillant virus liste noire fournisseur
    hébergement très seulement donc pourquoi quand où quoi ici aussi même autre nouveau nouvelle
    ancien ancienne semble pense voudrais souhaiterais pourriez pourrait devrait merci beaucoup
    """,
    stems="""
    configur restaur install réinstall planifi livr bloqu débloqu authentifi vérifi confirm renouvel
    expir annul rembours factur trait redirig transfér résol redémarr surveill analys assign signal
    compress chiffr synchronis répliqu mont format allou déploi répar analys filtr optimis export
    import télécharg contrôl test réinitialis suspend réactiv enregistr valid
    """,
    endings=("e", "es", "er", "é", "ée", "és", "ement", "ation", "ations", "ons", "ez", "ent", "ant"),
    greetings=("Bonjour,", "Bonjour {agent},", "Madame, Monsieur,", "Bonsoir,", "Chère équipe support,"),
    agent_greetings=("Bonjour {name},", "Bonjour,", "Madame, Monsieur,", "Bonsoir {name},"),
    problems=(
        "Depuis le {date}, notre {service} sur {host} ne fonctionne plus.",
        "Nous ne pouvons plus nous connecter à {product}, le message {error} apparaît.",
        "Le {w} sur {host} ({ip}) ne répond plus depuis ce matin.",
        "Les emails envoyés à {email} sont rejetés avec {error}.",
        "La commande {order} a été prélevée deux fois et la facture indique un mauvais {w}.",
        "Le site est très lent depuis la dernière {w} et renvoie parfois {error}.",
        "La sauvegarde de {host} a encore échoué cette nuit avec {error}.",
        "Depuis la mise à jour du {w}, {product} redemande sans cesse le mot de passe.",
        "Nous recevons beaucoup de spam depuis {ip} et le filtre {w} ne le bloque pas.",
        "Notre serveur {ip} est sur une liste noire, nos clients ne reçoivent plus nos emails.",
        "Le certificat de {host} a expiré et le navigateur affiche un avertissement.",
        "Le disque de {host} est plein et le {service} ne démarre pas.",
        "L'adresse IPv6 {ip6} est injoignable depuis l'extérieur depuis le {date}.",
        "Notre abonnement {product} a été résilié alors que la commande {order} est payée.",
        "Les utilisateurs du bureau obtiennent {error} en ouvrant {service}.",
    ),
    details=(
        "L'erreur exacte est : {error}.",
        "Cela arrive sur {host} et {host2}, tous deux derrière {ip}.",
        "Le journal indique {error} à {time}.",
        "Environ {n} utilisateurs sont concernés.",
        "Voir aussi mon ticket précédent {ref}.",
        "Mon collègue {email} a le même problème.",
        "Numéro de commande : {order}.",
        "Serveur : {host} ({ip}).",
    ),
    context=(
        "Nous utilisons le {w} avec le {w} et le {w} pour notre {w}.",
        "Le {w} a été modifié la semaine dernière par notre prestataire {w}.",
        "Avant, le {w} et le {w} fonctionnaient sans aucun {w}.",
        "Seul le {w} du bureau {w} est concerné, le {w} fonctionne.",
        "Notre équipe {w} l'a remarqué pendant le {w}.",
        "Cela a commencé après le déplacement du {w} vers le nouveau {w}.",
        "Le rapport {w} indique {n} erreurs {w} et un avertissement {w}.",
    ),
    tried=(
        "Nous avons déjà redémarré le {service} et vidé le cache.",
        "J'ai essayé avec un autre navigateur et un autre {w}, même résultat.",
        "Nous avons vérifié les enregistrements DNS et le {w} semble correct.",
        "J'ai réinitialisé le mot de passe deux fois mais cela ne marche toujours pas.",
        "Le redémarrage de {host} n'a rien changé.",
        "Nous avons suivi le guide de {product} étape par étape.",
    ),
    questions=(
        "Pouvez-vous vérifier ce qui ne va pas ?",
        "Pourriez-vous nous dire quand ce sera corrigé ?",
        "Y a-t-il une panne de votre côté ?",
        "Que devons-nous faire maintenant ?",
        "Pouvez-vous restaurer le {w} depuis la sauvegarde d'hier ?",
        "Pourriez-vous rembourser le double prélèvement ?",
        "N'hésitez pas si vous avez besoin de plus d'informations.",
        "Pouvez-vous retirer notre IP {ip} de la liste noire ?",
    ),
    thanks=("Merci.", "Merci d'avance.", "Merci pour votre aide.", "Merci beaucoup.", "Je vous remercie."),
    closings=("Cordialement,", "Bien cordialement,", "Salutations,", "Bien à vous,"),
    agent_answers=(
        "Merci de nous avoir contactés.",
        "J'ai vérifié {host} : le {service} était arrêté, je l'ai redémarré et tout fonctionne.",
        "Le problème venait d'un disque plein sur {host} : nous avons libéré de l'espace.",
        "J'ai retiré {ip} de la liste noire, cela peut prendre jusqu'à une heure.",
        "J'ai remboursé le double prélèvement de la commande {order} ; vous le verrez sous {n} jours.",
        "Le certificat de {host} a été renouvelé.",
        "Nos techniciens ont trouvé un problème sur le {w} de {host} et y travaillent.",
        "Merci de vider le cache du navigateur et de réessayer.",
        "J'ai augmenté le quota de la boîte {email}.",
        "Cela est lié au problème connu {ref}.",
        "La modification DNS peut prendre jusqu'à {n} heures.",
        "J'ai restauré la sauvegarde du {date} sur {host}.",
    ),
    agent_questions=(
        "Pourriez-vous nous envoyer une capture d'écran de l'erreur ?",
        "Quel serveur est concerné exactement ?",
        "Pouvez-vous confirmer que cela fonctionne maintenant ?",
        "À quelle heure exactement cela s'est-il produit ?",
        "Pouvez-vous nous envoyer les en-têtes complets d'un email rejeté ?",
    ),
    followups=(
        "Avez-vous du nouveau ?",
        "C'est encore arrivé à {time}.",
        "Cela fonctionne maintenant, merci !",
        "Malheureusement cela ne marche toujours pas, maintenant j'ai {error}.",
        "Voici la capture d'écran demandée.",
        "Le problème est revenu depuis le {date}.",
    ),
    notes=(
        "Vérifié {host} : {service} arrêté, redémarré.",
        "Le client a aussi écrit depuis {email}. Même {w}.",
        "Ressemble à {ref}, je transmets au niveau 2.",
        "Disque de {host} à {n}%, anciens journaux supprimés.",
        "Remboursement validé pour {order}.",
        "IP {ip} retirée de la liste, en attente de propagation.",
        "Ne pas fermer, on attend le correctif du {w}.",
    ),
    subjects=(
        "{service} ne fonctionne plus",
        "Impossible de se connecter à {product}",
        "Erreur {error} sur {host}",
        "Emails rejetés : {error}",
        "Double prélèvement commande {order}",
        "Site très lent",
        "Échec de la sauvegarde sur {host}",
        "IP {ip} sur liste noire",
        "Certificat expiré pour {host}",
        "Question sur la facture {order}",
        "{product} : problème de {w}",
        "Urgent : {service} en panne",
        "RE: {ref}",
    ),
    quote_header="Le {date}, {sender} a écrit :",
    first_names="""Camille Louis Léa Lucas Manon Hugo Chloé Thomas Inès Nicolas Julie Antoine Sophie Pierre
    Claire Julien Marie Mathieu Élodie Olivier Céline François""",
    last_names="""Martin Bernard Dubois Thomas Robert Richard Petit Durand Leroy Moreau Simon Laurent Lefebvre
    Michel Garcia David Bertrand Roux Vincent Fournier Morel Girard""",
    company_forms=("{last} SARL", "{last} et {last} SAS", "Cabinet {last}", "{last} Logistique SA"),
    signature="{first} {last}\n{company}\nTél. {phone}",
    agent_signature="{first}\nÉquipe {department}",
    free_mail=("courriel.example", "mail.example"),
)
