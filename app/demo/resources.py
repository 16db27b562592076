"""Demo resources: real public reports, toolkits and guides from the field, in several languages.

Titles and publishers are real; the summaries are ours. Loaded with the rest of the demo coalition (see
:mod:`app.demo.coalition`), so only ever into an empty console-only database.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta

from bot.ports import Store
from bot.resources.model import ResourceFields, ResourceKind, ResourceVisibility, normalise_url

PUBLIC = ResourceVisibility.PUBLIC
MEMBERS = ResourceVisibility.MEMBERS
K = ResourceKind

# (url, title, summary, kind, topics, tags, language, visibility). The first one is public and only in
# "disinformation": the permission tests edit it as that topic's coordinator.
DEMO_RESOURCES: tuple[tuple[str, str, str, ResourceKind, tuple[str, ...], tuple[str, ...], str,
                            ResourceVisibility], ...] = (
    ("https://www.disinfo.eu/doppelganger/",
     "Doppelganger: Media clones serving Russian propaganda",
     "EU DisinfoLab's investigation of a network that cloned European news sites to spread pro-Kremlin "
     "narratives about the war in Ukraine.",
     K.REPORT, ("disinformation",), ("russia", "cloned media", "ukraine", "foreign interference"), "en", PUBLIC),
    ("https://www.diis.dk/en/research/tech-for-democracy-learnings-from-the-year-of-action",
     "Tech for Democracy: Learnings from the Year of Action",
     "DIIS report on what governments, tech companies and civil society learned from the Danish-led Tech for "
     "Democracy initiative, and what a democratic digital agenda needs next.",
     K.REPORT, ("research", "elections"), ("democracy", "tech policy", "multi-stakeholder"), "en", PUBLIC),
    ("https://rm.coe.int/information-disorder-toward-an-interdisciplinary-framework-for-researc/168076277c",
     "Information Disorder: Toward an interdisciplinary framework for research and policy making",
     "Claire Wardle and Hossein Derakhshan's Council of Europe report that defined mis-, dis- and "
     "mal-information and the agents, messages and interpreters of information disorder.",
     K.REPORT, ("disinformation", "research"), ("framework", "misinformation", "first draft"), "en", PUBLIC),
    ("https://firstdraftnews.org/long-form-article/understanding-information-disorder/",
     "First Draft's Essential Guide to Understanding Information Disorder",
     "A short guide to the seven types of mis- and disinformation, with examples, for newsrooms and "
     "fact-checkers.",
     K.GUIDE, ("disinformation",), ("first draft", "fact-checking", "newsrooms"), "en", PUBLIC),
    ("https://www.disinfo.eu/publications/indian-chronicles-deep-dive-into-a-15-year-operation-targeting-the-eu-"
     "and-un-to-serve-indian-interests/",
     "Indian Chronicles: deep dive into a 15-year operation targeting the EU and UN to serve Indian interests",
     "EU DisinfoLab traces hundreds of fake media outlets and defunct NGOs used to lobby European and UN "
     "institutions.",
     K.REPORT, ("disinformation", "research"), ("fake ngos", "lobbying", "united nations"), "en", MEMBERS),
    ("https://datajournalism.com/read/handbook/verification-3",
     "Verification Handbook for Disinformation and Media Manipulation",
     "European Journalism Centre handbook on investigating accounts, bots, images and coordinated campaigns.",
     K.GUIDE, ("disinformation",), ("verification", "osint", "bots"), "en", PUBLIC),
    ("https://bellingcat.gitbook.io/toolkit",
     "Bellingcat's Online Investigations Toolkit",
     "A maintained list of open-source tools for maps, satellite imagery, social media, archiving and "
     "transport, each with notes on how to use it.",
     K.TOOLKIT, ("research",), ("osint", "tools", "geolocation"), "en", PUBLIC),
    ("https://www.ohchr.org/en/publications/policy-and-methodological-publications/berkeley-protocol-digital-"
     "open-source",
     "Berkeley Protocol on Digital Open Source Investigations",
     "OHCHR and UC Berkeley's standards for collecting, preserving and verifying open-source information "
     "as evidence of human-rights violations.",
     K.GUIDE, ("research", "incident-response"), ("osint", "evidence", "human rights"), "en", PUBLIC),
    ("https://euvsdisinfo.eu/disinformation-cases/",
     "EUvsDisinfo database of disinformation cases",
     "The EEAS East StratCom Task Force's searchable database of pro-Kremlin disinformation cases since 2015.",
     K.DATASET, ("disinformation", "research"), ("russia", "database", "eeas"), "en", PUBLIC),
    ("https://www.ifes.org/publications/countering-hate-speech-elections-strategies-electoral-management-bodies",
     "Countering Hate Speech in Elections: Strategies for Electoral Management Bodies",
     "IFES white paper on how election commissions can prevent and respond to hate speech during campaigns.",
     K.REPORT, ("elections",), ("hate speech", "election management", "ifes"), "en", PUBLIC),
    ("https://www.ndi.org/tweets-that-chill",
     "Tweets that Chill: Analyzing Online Violence Against Women in Politics",
     "NDI research in Colombia, Indonesia and Kenya on how online abuse pushes women out of political life.",
     K.REPORT, ("whrd-safety", "elections"), ("online violence", "women in politics", "ndi"), "en", PUBLIC),
    ("https://www.amnesty.org/en/latest/research/2018/03/online-violence-against-women-chapter-1/",
     "Toxic Twitter – A Toxic Place for Women",
     "Amnesty International's research into violence and abuse against women on Twitter, and the company's "
     "failure to respond.",
     K.REPORT, ("whrd-safety",), ("online violence", "platform accountability", "amnesty"), "en", PUBLIC),
    ("https://unesdoc.unesco.org/ark:/48223/pf0000377223",
     "The Chilling: global trends in online violence against women journalists",
     "UNESCO and ICFJ research discussion paper: a global survey and case studies of online violence against "
     "women journalists, and what newsrooms and platforms should do.",
     K.REPORT, ("whrd-safety", "research"), ("journalists", "online violence", "unesco"), "en", PUBLIC),
    ("https://www.article19.org/resources/hate-speech-explained-a-toolkit/",
     "'Hate Speech' Explained: A Toolkit",
     "ARTICLE 19's guide to identifying hate speech under international human-rights law and responding "
     "without undue restrictions on expression.",
     K.TOOLKIT, ("disinformation", "elections"), ("hate speech", "freedom of expression", "article 19"), "en",
     PUBLIC),
    ("https://www.accessnow.org/help/",
     "Access Now Digital Security Helpline",
     "Free, 24/7 digital security help for civil society in nine languages: account compromise, malware, "
     "phishing and secure communications.",
     K.GUIDE, ("cybersecurity", "incident-response"), ("helpline", "emergency", "access now"), "en", PUBLIC),
    ("https://guides.accessnow.org/self-doxing.html",
     "Self-Doxing Guide",
     "Access Now Digital Security Helpline guide to finding and removing what is public about you before "
     "someone uses it to harass you.",
     K.GUIDE, ("whrd-safety", "cybersecurity"), ("doxing", "privacy", "access now"), "en", MEMBERS),
    ("https://digitalfirstaid.org/",
     "Digital First Aid Kit",
     "Step-by-step troubleshooting for a hacked account, a seized device, a DDoS attack or impersonation, "
     "with links to CiviCERT help desks.",
     K.TOOLKIT, ("incident-response", "cybersecurity"), ("emergency", "civicert", "triage"), "en", MEMBERS),
    ("https://ssd.eff.org/",
     "Surveillance Self-Defense",
     "EFF's guides to safer online communications: threat modelling, passwords, two-factor authentication "
     "and encrypted messaging.",
     K.GUIDE, ("cybersecurity",), ("threat modelling", "encryption", "eff"), "en", PUBLIC),
    ("https://ssd.eff.org/es",
     "Autoprotección digital contra la vigilancia",
     "Las guías de la EFF para comunicarse con más seguridad: modelo de amenazas, contraseñas, autenticación "
     "en dos pasos y mensajería cifrada.",
     K.GUIDE, ("cybersecurity",), ("vigilancia", "cifrado", "eff"), "es", PUBLIC),
    ("https://securityinabox.org/en/",
     "Security in a Box: digital security tools and tactics",
     "Front Line Defenders and Tactical Tech's guide to protecting devices, accounts and communications.",
     K.TOOLKIT, ("cybersecurity",), ("front line defenders", "devices", "passwords"), "en", MEMBERS),
    ("https://securityinabox.org/fr/",
     "Security in a Box : outils et tactiques de sécurité numérique",
     "Le guide de Front Line Defenders et Tactical Tech pour protéger ses appareils, ses comptes et ses "
     "communications.",
     K.TOOLKIT, ("cybersecurity",), ("front line defenders", "sécurité numérique", "mots de passe"), "fr",
     MEMBERS),
    ("https://securityinabox.org/es/",
     "Security in a Box: herramientas y tácticas de seguridad digital",
     "La guía de Front Line Defenders y Tactical Tech para proteger dispositivos, cuentas y comunicaciones.",
     K.TOOLKIT, ("cybersecurity",), ("front line defenders", "seguridad digital", "contraseñas"), "es", MEMBERS),
    ("https://www.frontlinedefenders.org/en/resource-publication/workbook-security-practical-steps-human-rights-"
     "defenders-risk",
     "Workbook on Security: Practical Steps for Human Rights Defenders at Risk",
     "Front Line Defenders workbook for assessing risk and building a security plan, for defenders and their "
     "organisations.",
     K.GUIDE, ("whrd-safety", "incident-response"), ("risk assessment", "security plan", "defenders"), "en",
     MEMBERS),
    ("https://www.sgdsn.gouv.fr/publications/rrn-une-campagne-numerique-de-manipulation-de-linformation-complexe-"
     "et-persistante",
     "RRN : une campagne numérique de manipulation de l'information complexe et persistante",
     "Le rapport de VIGINUM sur la campagne « RRN » (Doppelgänger) : usurpation de médias français, faux "
     "sites et comptes inauthentiques.",
     K.REPORT, ("disinformation",), ("viginum", "ingérence étrangère", "russie"), "fr", PUBLIC),
    ("https://www.sgdsn.gouv.fr/publications/portal-kombat-un-reseau-structure-et-coordonne-de-propagande-"
     "prorusse",
     "Portal Kombat : un réseau structuré et coordonné de propagande prorusse",
     "VIGINUM décrit un réseau de 193 sites d'information qui relaient la propagande russe vers l'Europe.",
     K.REPORT, ("disinformation", "elections"), ("viginum", "propagande", "réseau de sites"), "fr", PUBLIC),
    ("https://rsf.org/fr/classement",
     "Classement mondial de la liberté de la presse",
     "Le classement annuel de Reporters sans frontières : 180 pays et territoires évalués sur la liberté "
     "des journalistes.",
     K.DATASET, ("research",), ("liberté de la presse", "journalistes", "rsf"), "fr", PUBLIC),
    ("https://www.oas.org/es/cidh/expresion/publicaciones/Guia_Desinformacion_VF.pdf",
     "Guía para garantizar la libertad de expresión frente a la desinformación deliberada en contextos "
     "electorales",
     "La Relatoría Especial para la Libertad de Expresión de la CIDH orienta a Estados, plataformas y "
     "medios sobre la desinformación en elecciones.",
     K.GUIDE, ("elections", "disinformation"), ("elecciones", "libertad de expresión", "cidh"), "es", PUBLIC),
    ("https://freedomhouse.org/report/freedom-net/2023/repressive-power-artificial-intelligence",
     "Freedom on the Net 2023: The Repressive Power of Artificial Intelligence",
     "Freedom House's annual survey of internet freedom in 70 countries; this edition on generative AI "
     "in disinformation and censorship.",
     K.REPORT, ("research", "disinformation"), ("artificial intelligence", "censorship", "freedom house"), "en",
     PUBLIC),
    ("https://reutersinstitute.politics.ox.ac.uk/digital-news-report/2024",
     "Reuters Institute Digital News Report 2024",
     "Survey data from 47 markets on how people get news, trust in news and worries about what is real online.",
     K.DATASET, ("research",), ("news consumption", "trust", "survey"), "en", PUBLIC),
    ("https://www.kofiannanfoundation.org/publications/protecting-electoral-integrity-in-the-digital-age/",
     "Protecting Electoral Integrity in the Digital Age",
     "Report of the Kofi Annan Commission on Elections and Democracy in the Digital Age: threats from "
     "polarisation, hate speech and foreign interference, and recommendations.",
     K.REPORT, ("elections",), ("electoral integrity", "social media", "kofi annan"), "en", MEMBERS),
    ("https://www.idea.int/publications/catalogue/cybersecurity-elections-models-interagency-collaboration",
     "Cybersecurity in Elections: Models of Interagency Collaboration",
     "International IDEA on how election bodies work with security agencies to protect election technology.",
     K.REPORT, ("elections", "cybersecurity"), ("election technology", "collaboration", "international idea"),
     "en", MEMBERS),
    ("https://acoso.online/",
     "Acoso.Online: qué hacer si publican imágenes íntimas tuyas sin consentimiento",
     "Guías por país para víctimas de difusión no consentida de imágenes íntimas: cómo denunciar en las "
     "plataformas, guardar pruebas y buscar apoyo legal.",
     K.GUIDE, ("whrd-safety",), ("acoso", "violencia digital", "denuncia"), "es", MEMBERS),
)


def demo_fields(topics: Mapping[str, int]) -> list[ResourceFields]:
    fields = []
    for url, title, summary, kind, slugs, tags, language, visibility in DEMO_RESOURCES:
        clean, key = normalise_url(url)
        fields.append(ResourceFields(url=clean, url_key=key, title=title, summary=summary, kind=kind,
                                     topic_ids=tuple(sorted(topics[slug] for slug in slugs)), tags=tags,
                                     language=language, visibility=visibility))
    return fields


async def load_demo_resources(store: Store, now: datetime, topics: Mapping[str, int], added_by: int) -> None:
    """Add the demo resources, oldest first, a day apart, so "newest first" browsing has an order."""
    fields = demo_fields(topics)
    for index, resource in enumerate(fields):
        await store.resources.add(resource, added_by, now - timedelta(days=len(fields) - index))
