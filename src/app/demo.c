/* SPDX-License-Identifier: MIT */
/*
 * demo.c - demo data for `knotenpunkt demo`. Sits in src/app and talks to storage only through
 * the store interface: customer messages go through ingest like real inbound traffic, agent
 * replies and notes through message_add, so every derived field (previews, counters, waiting
 * times, full-text index, analysis) is filled by the same code as in production.
 *
 * Ten canned answers in both languages (greetings, delays, returns, refunds, passwords,
 * closings) come with it, created by the demo admin.
 *
 * Conversations are built from a bank of topics (orders, deliveries, returns, invoices,
 * complaints, praise, ...) in German and English; a small PRNG seeded by the caller picks the
 * topic, names, products, order numbers, amounts and dates, so a seed always gives the same data.
 */
#include "demo.h"
#include "pipeline.h"
#include "../api/api_widget.h"
#include "../base/clock.h"

enum {
    N_CONTACTS = 200,
    N_CONVERSATIONS = 500,
    N_TEAMS = 3,
    N_AGENTS = 6,
    TEXT_MAX = 2048,
    DAY_MS = 24 * 60 * 60 * 1000,
};

/* ---- a small deterministic PRNG (splitmix64) ---- */

struct rng {
    uint64_t s;
};

static uint64_t next(struct rng *r)
{
    uint64_t z = (r->s += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

/* A number in [0, n). */
static unsigned pick(struct rng *r, unsigned n)
{
    return (unsigned)(next(r) % n);
}

static bool chance(struct rng *r, unsigned percent)
{
    return pick(r, 100) < percent;
}

/* An index into weights[], chosen in proportion to the weights. */
static unsigned weighted(struct rng *r, const unsigned *weights, size_t n)
{
    unsigned total = 0;
    for (size_t i = 0; i < n; i++)
        total += weights[i];
    unsigned x = pick(r, total);
    for (size_t i = 0; i < n; i++) {
        if (x < weights[i])
            return (unsigned)i;
        x -= weights[i];
    }
    return (unsigned)n - 1;
}

/* ---- staff: teams, agents, inboxes ---- */

static const char *const team_names[N_TEAMS] = {"Kundenservice", "Versand & Retouren",
                                                "Buchhaltung"};

static const struct {
    const char *email, *name, *first, *role;
    unsigned teams; /* bit i: member of team_names[i] */
} agents[N_AGENTS] = {
    {"admin@demo.knotenpunkt.test", "Demo Admin", "Demo", "admin", 0},
    {"anna@demo.knotenpunkt.test", "Anna Becker", "Anna", "agent", 1u << 0},
    {"jonas@demo.knotenpunkt.test", "Jonas Weber", "Jonas", "agent", 1u << 0 | 1u << 1},
    {"mehmet@demo.knotenpunkt.test", "Mehmet Kaya", "Mehmet", "agent", 1u << 1},
    {"sophie@demo.knotenpunkt.test", "Sophie Klein", "Sophie", "agent", 1u << 2 | 1u << 0},
    {"lukas@demo.knotenpunkt.test", "Lukas Hoffmann", "Lukas", "agent", 1u << 2},
};

/* The kinds of identity a contact can have. */
enum { ID_EMAIL, ID_PHONE, ID_WHATSAPP, ID_SHOP, ID_TELEGRAM, ID_INSTAGRAM, ID_FACEBOOK, ID_N };

static const char *const kind_names[ID_N] = {"email",    "phone",     "whatsapp", "shop",
                                             "telegram", "instagram", "facebook"};

/* One inbox per channel. kind/alt: the identity an inbound message of the channel carries. */
static const struct {
    const char *channel, *name;
    int team;        /* index into team_names */
    int kind, alt;   /* alt -1: none */
    unsigned weight; /* share of the conversations */
} inboxes[] = {
    {"email", "Support-Postfach", 0, ID_EMAIL, -1, 30},
    {"webchat", "Website-Chat", 0, ID_EMAIL, -1, 14},
    {"whatsapp", "WhatsApp", 1, ID_WHATSAPP, ID_PHONE, 16},
    {"sms", "SMS", 1, ID_PHONE, -1, 5},
    {"facebook", "Facebook", 0, ID_FACEBOOK, -1, 5},
    {"instagram", "Instagram", 0, ID_INSTAGRAM, -1, 6},
    {"telegram", "Telegram", 1, ID_TELEGRAM, -1, 5},
    {"phone", "Telefon-Hotline", 2, ID_PHONE, -1, 8},
    {"api", "Shop-API", 2, ID_EMAIL, -1, 11},
};

enum { N_INBOXES = KP_ARRAY_LEN(inboxes) };

/* ---- contacts ---- */

static const char *const first_de[] = {
    "Lena",   "Jonas",  "Marie", "Felix",  "Sophie", "Paul",   "Hannah", "Leon",  "Emma",
    "Lukas",  "Mia",    "Finn",  "Laura",  "Tim",    "Julia",  "Niklas", "Sarah", "Jan",
    "Katrin", "Tobias", "Anja",  "Stefan", "Sabine", "Jürgen", "Özlem",  "Björn", "Ute",
};
static const char *const last_de[] = {
    "Schmidt",  "Müller",  "Schneider", "Fischer",    "Weber",   "Meyer",  "Wagner",
    "Becker",   "Schulz",  "Hoffmann",  "Koch",       "Richter", "Klein",  "Wolf",
    "Schröder", "Neumann", "Schwarz",   "Zimmermann", "Braun",   "Krüger", "Hartmann",
    "Lange",    "Kaya",    "Nowak",     "Vogel",      "Krause",
};
static const char *const first_en[] = {
    "Oliver",  "Emily", "James", "Charlotte", "Harry", "Amelia",  "George", "Olivia", "Jack",
    "Isla",    "Noah",  "Grace", "Thomas",    "Chloe", "William", "Lucy",   "Daniel", "Ella",
    "Michael", "Megan", "Ryan",  "Aoife",     "Liam",  "Freya",   "Ethan",
};
static const char *const last_en[] = {
    "Smith",  "Jones",   "Williams", "Taylor", "Brown",  "Davies",   "Evans",    "Wilson",
    "Thomas", "Johnson", "Roberts",  "Walker", "Wright", "Robinson", "Thompson", "White",
    "Hughes", "Edwards", "Green",    "Hall",   "Wood",   "Clarke",   "Murphy",   "O'Brien",
};
static const char *const cities_de[] = {
    "Berlin",    "Hamburg",    "München", "Köln",    "Frankfurt am Main",
    "Stuttgart", "Düsseldorf", "Leipzig", "Dresden", "Hannover",
    "Nürnberg",  "Bremen",     "Münster", "Freiburg"};
static const char *const cities_en[] = {"London",    "Manchester", "Dublin",  "Edinburgh",
                                        "Bristol",   "Leeds",      "Glasgow", "Cork",
                                        "Amsterdam", "Copenhagen", "Vienna",  "Zurich"};
static const char *const domains_de[] = {"example.de", "example.com", "example.net"};
static const char *const domains_en[] = {"example.co.uk", "example.com", "example.ie"};
static const char *const mobile_de[] = {"151", "160", "170", "176", "157"};
static const char *const tiers[] = {"bronze", "silver", "gold", "platinum"};

struct contact {
    int64_t id;
    int lang; /* 0 German, 1 English */
    const char *first, *last, *city, *tier;
    char name[96];
    unsigned kinds; /* bit per ID_* */
    char value[ID_N][96];
};

/* ---- the topic bank ---- */

enum { DE, EN, N_LANG };

struct text {
    const char *subject, *open, *reply, *follow;
};

struct topic {
    const char *tags[2];
    int team; /* -1: stays with the inbox's team, else index into team_names */
    bool hot; /* likely high priority */
    struct text t[N_LANG];
};

/* Placeholders: {first} {agent} {order} {product} {amount} {date} {invoice} {tracking}
 * {carrier} {city}. */
static const struct topic topics[] = {
    {{"order", "delivery"},
     1,
     false,
     {{"Wo bleibt meine Bestellung {order}?",
       "Hallo, ich habe am {date} die Bestellung {order} aufgegeben (Artikel „{product}“), aber "
       "bisher ist nichts angekommen. Die Sendungsverfolgung zeigt seit drei Tagen keinen neuen "
       "Status. Können Sie bitte nachsehen, wo das Paket steckt? Viele Grüße, {first}",
       "Hallo {first},\nvielen Dank für Ihre Nachricht. Ich habe nachgesehen: Ihr Paket wurde mit "
       "{carrier} verschickt (Sendungsnummer {tracking}) und liegt derzeit im Verteilzentrum. Die "
       "Zustellung sollte in den nächsten 1–2 Werktagen erfolgen.\nViele Grüße\n{agent}",
       "Danke für die schnelle Antwort! Kann ich die Lieferung auch an eine Packstation umleiten "
       "lassen? Ich bin tagsüber nicht zu Hause."},
      {"Where is my order {order}?",
       "Hi, I placed order {order} ({product}) on {date} and it still hasn't arrived. The "
       "tracking page hasn't updated in three days. Could you please check where the parcel is? "
       "Thanks, {first}",
       "Hi {first},\nthanks for getting in touch. I've checked your order: it was shipped with "
       "{carrier} (tracking number {tracking}) and is currently at the local depot. It should be "
       "delivered within the next 1–2 working days.\nBest regards,\n{agent}",
       "Thanks for the quick reply! Can the parcel be redirected to a pickup point? I'm not at "
       "home during the day."}}},
    {{"delivery", "complaint"},
     1,
     true,
     {{"Paket beschädigt angekommen – {order}",
       "Guten Tag, heute kam meine Lieferung {order} an, aber der Karton war völlig eingedrückt "
       "und der Artikel „{product}“ ist beschädigt. Fotos habe ich gemacht. Wie geht es jetzt "
       "weiter? {first}",
       "Hallo {first},\ndas tut mir sehr leid! Bitte schicken Sie uns die Fotos als Antwort auf "
       "diese Nachricht. Wir senden Ihnen umgehend kostenlos Ersatz zu – den beschädigten Artikel "
       "müssen Sie nicht zurückschicken.\nBeste Grüße\n{agent}",
       "Die Fotos sind anbei. Wann kann ich mit dem Ersatz rechnen? Ich brauche das Gerät "
       "eigentlich bis zum Wochenende."},
      {"Parcel arrived damaged – {order}",
       "Hello, my delivery {order} arrived today, but the box was crushed and the {product} is "
       "damaged. I took photos. What happens now? {first}",
       "Hi {first},\nI'm really sorry about that! Please reply with the photos and we'll send a "
       "free replacement right away – there's no need to return the damaged item.\nKind "
       "regards,\n{agent}",
       "Photos attached. When can I expect the replacement? I really need the {product} before "
       "the weekend."}}},
    {{"return", NULL},
     1,
     false,
     {{"Rücksendung Bestellung {order}",
       "Hallo, ich möchte den Artikel „{product}“ aus meiner Bestellung {order} zurückschicken, "
       "er entspricht leider nicht meinen Erwartungen. Wie bekomme ich ein Retourenetikett?",
       "Hallo {first},\nkein Problem! Ihr kostenloses Retourenetikett für {carrier} habe ich "
       "soeben an Ihre E-Mail-Adresse geschickt. Bitte legen Sie den Lieferschein bei. Sobald die "
       "Ware bei uns eingetroffen ist, erstatten wir {amount} auf Ihr ursprüngliches "
       "Zahlungsmittel.\nViele Grüße\n{agent}",
       "Das Etikett ist angekommen, danke. Kann ich das Paket auch in einer Filiale abgeben oder "
       "muss es abgeholt werden?"},
      {"Return for order {order}",
       "Hi, I'd like to return the {product} from order {order} – it's not quite what I "
       "expected. How do I get a return label?",
       "Hi {first},\nno problem at all! I've just emailed you a free {carrier} return label. "
       "Please include the delivery note in the parcel. Once it reaches our warehouse we'll "
       "refund {amount} to your original payment method.\nBest regards,\n{agent}",
       "Got the label, thanks. Can I drop the parcel off at a shop or does it need to be "
       "collected?"}}},
    {{"return", "invoice"},
     2,
     false,
     {{"Erstattung für Retoure {order} noch nicht erhalten",
       "Hallo, meine Rücksendung zur Bestellung {order} ist laut Sendungsverfolgung seit dem "
       "{date} bei Ihnen. Die Erstattung über {amount} ist aber noch nicht auf meinem Konto. "
       "Können Sie das bitte prüfen?",
       "Hallo {first},\nIhre Retoure ist bei uns eingegangen und wurde geprüft. Die Gutschrift "
       "über {amount} wurde heute angewiesen; je nach Bank dauert es 3–5 Werktage, bis der Betrag "
       "sichtbar ist.\nFreundliche Grüße\n{agent}",
       "Vielen Dank. Bekomme ich dafür auch eine Gutschrift als PDF für meine Unterlagen?"},
      {"Refund for return {order} not received",
       "Hello, according to the tracking my return for order {order} reached you on {date}, but "
       "the refund of {amount} still isn't in my account. Could you please look into it?",
       "Hi {first},\nyour return has arrived and been checked. The refund of {amount} was issued "
       "today; depending on your bank it can take 3–5 working days to show up.\nKind "
       "regards,\n{agent}",
       "Thank you. Could I also get a credit note as a PDF for my records?"}}},
    {{"invoice", NULL},
     2,
     false,
     {{"Rechnung für Bestellung {order} benötigt",
       "Guten Tag, für meine Steuererklärung benötige ich eine Rechnung zur Bestellung {order} "
       "vom {date}. In meinem Kundenkonto finde ich leider keine. Können Sie mir die Rechnung "
       "zuschicken?",
       "Hallo {first},\nanbei erhalten Sie die Rechnung {invoice} als PDF. Künftig finden Sie "
       "alle Rechnungen auch im Kundenkonto unter „Meine Bestellungen“.\nViele Grüße\n{agent}",
       "Danke! Könnten Sie die Rechnung noch auf meine Firma ausstellen? Die Adresse schicke ich "
       "Ihnen gleich mit."},
      {"Invoice needed for order {order}",
       "Hello, I need an invoice for order {order} from {date} for my expense report, but I "
       "can't find it in my account. Could you send it to me?",
       "Hi {first},\nplease find invoice {invoice} attached as a PDF. In future you can download "
       "all invoices from your account under \"My orders\".\nBest regards,\n{agent}",
       "Thanks! Could you reissue the invoice in my company's name? I'll send you the "
       "address."}}},
    {{"invoice", "complaint"},
     2,
     true,
     {{"Betrag doppelt abgebucht!",
       "Hallo, Sie haben {amount} für die Bestellung {order} zweimal von meinem Konto abgebucht. "
       "Ich bitte um sofortige Rückerstattung des doppelten Betrags.",
       "Hallo {first},\nentschuldigen Sie bitte den Ärger. Ich sehe die doppelte Autorisierung; "
       "die zweite Buchung wurde bereits storniert und wird innerhalb weniger Tage automatisch "
       "freigegeben. Ihre Rechnungsnummer lautet {invoice}.\nViele Grüße\n{agent}",
       "Bei meiner Bank ist die zweite Buchung immer noch zu sehen. Wie lange dauert das denn "
       "noch?"},
      {"Charged twice!",
       "Hi, you've charged {amount} for order {order} to my card twice. Please refund the "
       "duplicate payment immediately.",
       "Hi {first},\nsorry for the trouble. I can see the duplicate authorisation; the second "
       "charge has already been cancelled and will be released automatically within a few days. "
       "Your invoice number is {invoice}.\nKind regards,\n{agent}",
       "My bank still shows the second charge. How much longer will this take?"}}},
    {{"order", "delivery"},
     -1,
     false,
     {{"Lieferadresse ändern – {order}",
       "Hallo, ich bin umgezogen und habe bei der Bestellung {order} leider noch die alte "
       "Adresse angegeben. Kann die Lieferadresse noch geändert werden?",
       "Hallo {first},\ndie Bestellung ist noch nicht verpackt, ich kann die Adresse also noch "
       "ändern. Bitte nennen Sie mir die neue Anschrift vollständig mit Postleitzahl.\nViele "
       "Grüße\n{agent}",
       "Super, die neue Adresse lautet Lindenstraße 12, {city}. Vielen Dank!"},
      {"Change delivery address – {order}",
       "Hi, I've just moved and used my old address for order {order}. Is it still possible to "
       "change the delivery address?",
       "Hi {first},\nyour order hasn't been packed yet, so I can still change the address. "
       "Please send me the full new address including the postcode.\nBest regards,\n{agent}",
       "Great, the new address is 12 Linden Street, {city}. Thank you!"}}},
    {{"order", NULL},
     -1,
     false,
     {{"Bestellung {order} stornieren",
       "Hallo, bitte stornieren Sie meine Bestellung {order} von heute. Ich habe den Artikel "
       "„{product}“ versehentlich zweimal bestellt.",
       "Hallo {first},\nich habe die doppelte Bestellung storniert. Der Betrag von {amount} wird "
       "nicht abgebucht bzw. innerhalb von 3–5 Werktagen erstattet.\nViele Grüße\n{agent}",
       "Danke! Die andere Bestellung bleibt aber bestehen, oder?"},
      {"Cancel order {order}",
       "Hello, please cancel my order {order} from today. I accidentally ordered the {product} "
       "twice.",
       "Hi {first},\nI've cancelled the duplicate order. You won't be charged the {amount}, or it "
       "will be refunded within 3–5 working days.\nBest regards,\n{agent}",
       "Thanks! The other order is still going ahead, right?"}}},
    {{"return", "complaint"},
     1,
     true,
     {{"Falscher Artikel geliefert",
       "Hallo, in meinem Paket zur Bestellung {order} war nicht der bestellte Artikel "
       "„{product}“, sondern etwas völlig anderes. Bitte um Klärung, das sollte ein Geschenk "
       "werden.",
       "Hallo {first},\ndas ist uns sehr unangenehm, entschuldigen Sie bitte. Der richtige "
       "Artikel geht heute noch per Express an Sie raus. Für die Fehllieferung schicke ich Ihnen "
       "ein Retourenetikett.\nViele Grüße\n{agent}",
       "Danke, dass das so schnell geht. Muss ich den falschen Artikel originalverpackt "
       "zurückschicken?"},
      {"Wrong item delivered",
       "Hi, the parcel for order {order} didn't contain the {product} but a completely "
       "different item. Please sort this out, it was meant to be a gift.",
       "Hi {first},\nI'm very sorry about the mix-up. The {product} is going out to you by "
       "express today, and I'll send you a return label for the wrong item.\nKind "
       "regards,\n{agent}",
       "Thanks for acting so fast. Does the wrong item need to go back in its original "
       "packaging?"}}},
    {{"praise", NULL},
     -1,
     false,
     {{"Großes Lob an Ihr Team",
       "Hallo zusammen, ich wollte einfach mal Danke sagen! Mein Paket mit dem Artikel "
       "„{product}“ kam schon einen Tag nach der Bestellung an, super verpackt und genau wie "
       "beschrieben. Ich bestelle gern wieder bei Ihnen.",
       "Hallo {first},\nvielen Dank für das schöne Feedback – das freut uns sehr, und ich gebe es "
       "gern an das Team im Lager weiter!\nHerzliche Grüße\n{agent}",
       "Gerne! Gibt es den Artikel „{product}“ eigentlich auch in einer anderen Farbe?"},
      {"A big thank you to your team",
       "Hi all, I just wanted to say thank you! The {product} arrived the day after I ordered "
       "it, well packed and exactly as described. I'll definitely order from you again.",
       "Hi {first},\nthank you so much for the kind words – that made our day, and I'll pass "
       "them on to the warehouse team!\nWarm regards,\n{agent}",
       "You're welcome! By the way, is the {product} available in other colours too?"}}},
    {{"order", NULL},
     0,
     false,
     {{"Frage zu „{product}“",
       "Hallo, wann ist der Artikel „{product}“ wieder lieferbar? Auf der Website steht seit "
       "Wochen „bald verfügbar“. Kann ich ihn vorbestellen?",
       "Hallo {first},\nwir erwarten die nächste Lieferung voraussichtlich am {date}. Eine "
       "Vorbestellung ist leider nicht möglich, aber Sie können sich auf der Produktseite per "
       "E-Mail benachrichtigen lassen.\nViele Grüße\n{agent}",
       "Ok, danke. Gilt dann noch der aktuelle Preis von {amount}?"},
      {"Question about the {product}",
       "Hello, when will the {product} be back in stock? The website has said \"coming soon\" "
       "for weeks. Can I pre-order it?",
       "Hi {first},\nwe expect the next delivery around {date}. Pre-orders aren't possible, "
       "unfortunately, but you can sign up for an email alert on the product page.\nBest "
       "regards,\n{agent}",
       "OK, thanks. Will the current price of {amount} still apply then?"}}},
    {{"complaint", NULL},
     0,
     true,
     {{"Beschwerde: seit Tagen keine Antwort",
       "Ich habe jetzt schon dreimal wegen meiner Bestellung {order} geschrieben und nie eine "
       "Antwort bekommen. Das ist wirklich ärgerlich. Wenn sich bis morgen niemand meldet, "
       "storniere ich alles.",
       "Hallo {first},\nes tut mir wirklich leid, dass Sie so lange warten mussten. Ich kümmere "
       "mich ab sofort persönlich um Ihr Anliegen: Ihre Bestellung {order} wurde heute "
       "verschickt. Als Entschuldigung erhalten Sie einen Gutschein über 10 €.\nViele "
       "Grüße\n{agent}",
       "Danke für die Rückmeldung. Wie löse ich den Gutschein ein?"},
      {"Complaint: no answer for days",
       "I've written three times now about my order {order} and never got a reply. This is "
       "really frustrating. If nobody gets back to me by tomorrow, I'm cancelling everything.",
       "Hi {first},\nI'm truly sorry you had to wait so long. I'm handling your case personally "
       "from now on: your order {order} was shipped today. As an apology, here's a €10 "
       "voucher.\nKind regards,\n{agent}",
       "Thanks for getting back to me. How do I redeem the voucher?"}}},
    {{"invoice", "order"},
     2,
     false,
     {{"Zahlung mit PayPal fehlgeschlagen",
       "Hallo, beim Bezahlen meiner Bestellung {order} mit PayPal kommt immer eine "
       "Fehlermeldung. Der Betrag von {amount} wurde aber reserviert. Ist die Bestellung jetzt "
       "gültig?",
       "Hallo {first},\ndie Zahlung ist bei uns nicht eingegangen, die Reservierung hebt PayPal "
       "automatisch auf. Sie können die Bestellung in Ihrem Kundenkonto erneut bezahlen, "
       "alternativ auch per Rechnung oder SEPA-Lastschrift.\nViele Grüße\n{agent}",
       "Ich habe jetzt per Rechnung bezahlt. Bis wann muss ich überweisen?"},
      {"PayPal payment failed",
       "Hi, every time I try to pay for order {order} with PayPal I get an error, but {amount} "
       "has been reserved on my account. Is the order valid now?",
       "Hi {first},\nthe payment didn't reach us, and PayPal will release the reservation "
       "automatically. You can pay for the order again from your account, or choose invoice or "
       "SEPA direct debit instead.\nBest regards,\n{agent}",
       "I've now chosen to pay by invoice. When is the payment due?"}}},
    {{"return", "complaint"},
     0,
     false,
     {{"Gerät defekt – Garantie ({order})",
       "Hallo, mein Gerät „{product}“ (gekauft am {date}, Bestellung {order}) funktioniert seit "
       "gestern nicht mehr, es lässt sich gar nicht einschalten. Ist das ein Garantiefall?",
       "Hallo {first},\nja, das Gerät ist noch in der Garantie. Bitte schicken Sie es mit dem "
       "beiliegenden Retourenetikett ein; nach der Prüfung erhalten Sie innerhalb von 10 Tagen "
       "eine Reparatur oder ein Neugerät.\nViele Grüße\n{agent}",
       "Danke. Bekomme ich in der Zwischenzeit ein Ersatzgerät? Ich nutze es täglich."},
      {"Faulty device – warranty ({order})",
       "Hello, my {product} (bought on {date}, order {order}) stopped working yesterday – it "
       "won't switch on at all. Is this covered by the warranty?",
       "Hi {first},\nyes, it's still under warranty. Please send it back with the enclosed "
       "return label; after inspection you'll get a repair or a new unit within 10 days.\nKind "
       "regards,\n{agent}",
       "Thanks. Can I get a replacement unit in the meantime? I use it every day."}}},
    {{"order", NULL},
     0,
     false,
     {{"Gutscheincode funktioniert nicht",
       "Hallo, ich wollte den Gutscheincode SOMMER15 für den Artikel „{product}“ einlösen, aber "
       "im Warenkorb steht „Code ungültig“. Laut Newsletter gilt er bis Ende des Monats.",
       "Hallo {first},\nder Code gilt leider nur für Artikel, die nicht bereits reduziert sind, "
       "und „{product}“ ist gerade im Angebot. Ich habe Ihnen stattdessen einen Einmalcode über "
       "15 % erstellt: DANKE-{order}.\nViele Grüße\n{agent}",
       "Klasse, das hat funktioniert. Vielen Dank für die Kulanz!"},
      {"Discount code not working",
       "Hi, I tried to use the code SUMMER15 for the {product}, but the basket says \"invalid "
       "code\". The newsletter says it's valid until the end of the month.",
       "Hi {first},\nthe code only applies to items that aren't already reduced, and the "
       "{product} is currently on sale. I've created a one-off 15% code for you instead: "
       "THANKS-{order}.\nBest regards,\n{agent}",
       "Brilliant, that worked. Thanks for going the extra mile!"}}},
};

/* Later turns that fit any topic. */
static const char *const closings[N_LANG][3] = {
    {"Gern geschehen, {first}! Falls noch etwas ist, melden Sie sich jederzeit.\nViele "
     "Grüße\n{agent}",
     "Hallo {first},\ndas habe ich erledigt. Ich schließe die Anfrage, Sie können aber jederzeit "
     "auf diese Nachricht antworten.\nViele Grüße\n{agent}",
     "Hallo {first},\nja, das ist möglich. Ich habe alles Nötige veranlasst und Ihnen eine "
     "Bestätigung per E-Mail geschickt.\nBeste Grüße\n{agent}"},
    {"You're welcome, {first}! If there's anything else, just reply to this message.\nBest "
     "regards,\n{agent}",
     "Hi {first},\nall done. I'm closing this request for now, but you can reply at any "
     "time.\nKind regards,\n{agent}",
     "Hi {first},\nyes, that's possible. I've arranged everything and sent you a confirmation "
     "by email.\nBest regards,\n{agent}"},
};
static const char *const thanks[N_LANG][3] = {
    {"Perfekt, vielen Dank für die schnelle Hilfe!", "Alles klar, danke schön!",
     "Hat geklappt, danke. Schönes Wochenende!"},
    {"Perfect, thanks a lot for the quick help!", "Great, thank you!",
     "That worked, thanks. Have a nice weekend!"},
};
static const char *const notes[N_LANG][4] = {
    {"Rücksprache mit dem Lager gehalten – Paket {tracking} ist unterwegs.",
     "Kunde hat schon mehrfach geschrieben, bitte bevorzugt behandeln.",
     "Gutschrift über {amount} in der Buchhaltung angestoßen.",
     "Kulanz mit der Teamleitung abgestimmt."},
    {"Checked with the warehouse – parcel {tracking} is on its way.",
     "Customer has written several times, please prioritise.",
     "Refund of {amount} requested from accounting.",
     "Goodwill gesture agreed with the team lead."},
};

static const struct {
    const char *name[N_LANG];
    unsigned cents;
} products[] = {
    {{"Kaffeevollautomat Barista Pro", "Barista Pro bean-to-cup coffee machine"}, 49900},
    {{"Bluetooth-Kopfhörer SoundAir 2", "SoundAir 2 Bluetooth headphones"}, 8999},
    {{"Akku-Staubsauger CleanMax", "CleanMax cordless vacuum"}, 24900},
    {{"Smartwatch FitTrack 5", "FitTrack 5 smartwatch"}, 17995},
    {{"Luftreiniger PureBreeze", "PureBreeze air purifier"}, 12950},
    {{"Wasserkocher Aqua 1,7 l", "Aqua 1.7 l kettle"}, 3490},
    {{"LED-Schreibtischlampe Lumo", "Lumo LED desk lamp"}, 5990},
    {{"Elektrische Zahnbürste Smile X", "Smile X electric toothbrush"}, 7995},
    {{"Küchenmaschine ChefMix 1000", "ChefMix 1000 stand mixer"}, 32900},
    {{"Akkuschrauber PowerDrill 18V", "PowerDrill 18V cordless drill"}, 11990},
    {{"Stabmixer BlendGo", "BlendGo hand blender"}, 4490},
    {{"E-Book-Reader PaperLite", "PaperLite e-reader"}, 13900},
    {{"Saugroboter RoboClean S7", "RoboClean S7 robot vacuum"}, 39900},
    {{"Heißluftfritteuse CrispAir XL", "CrispAir XL air fryer"}, 9990},
};

static const struct {
    const char *name, *prefix;
} carriers[] = {
    {"DHL", "00340434"}, {"DPD", "0150"}, {"Hermes", "H1002"}, {"GLS", "ZK"}, {"UPS", "1Z"}};

static const char *const months_en[12] = {"January",   "February", "March",    "April",
                                          "May",       "June",     "July",     "August",
                                          "September", "October",  "November", "December"};

/* The values a conversation's texts are filled with. */
struct vars {
    const char *first, *agent, *product, *carrier, *city;
    char order[16], invoice[24], tracking[32], amount[24], date[24];
};

static void put(char *out, size_t cap, size_t *o, const char *s)
{
    size_t n = strlen(s);
    if (n > cap - 1 - *o)
        n = cap - 1 - *o;
    memcpy(out + *o, s, n);
    *o += n;
}

/* Fills the {placeholders} of tpl; unknown ones stay as they are. */
static void expand(char *out, size_t cap, const char *tpl, const struct vars *v)
{
    static const struct {
        const char *key;
        size_t off;
        bool array; /* a char[] member rather than a const char * */
    } keys[] = {
        {"{first}", offsetof(struct vars, first), false},
        {"{agent}", offsetof(struct vars, agent), false},
        {"{product}", offsetof(struct vars, product), false},
        {"{carrier}", offsetof(struct vars, carrier), false},
        {"{city}", offsetof(struct vars, city), false},
        {"{order}", offsetof(struct vars, order), true},
        {"{invoice}", offsetof(struct vars, invoice), true},
        {"{tracking}", offsetof(struct vars, tracking), true},
        {"{amount}", offsetof(struct vars, amount), true},
        {"{date}", offsetof(struct vars, date), true},
    };
    size_t o = 0;
    const char *p = tpl;
    while (*p && o < cap - 1) {
        size_t k = KP_ARRAY_LEN(keys);
        if (*p == '{')
            for (k = 0; k < KP_ARRAY_LEN(keys); k++)
                if (strncmp(p, keys[k].key, strlen(keys[k].key)) == 0)
                    break;
        if (k == KP_ARRAY_LEN(keys)) {
            out[o++] = *p++;
            continue;
        }
        const char *base = (const char *)v + keys[k].off;
        const char *val = keys[k].array ? base : *(const char *const *)(const void *)base;
        put(out, cap, &o, val ? val : "");
        p += strlen(keys[k].key);
    }
    out[o] = '\0';
}

/* ASCII form of a name for addresses and handles: "Jürgen" -> "juergen", "O'Brien" -> "obrien". */
static void slug(char *out, size_t cap, const char *name)
{
    static const struct {
        unsigned char b;
        const char *ascii;
    } umlauts[] = {{0xa4, "ae"}, {0xb6, "oe"}, {0xbc, "ue"}, {0x84, "ae"}, {0x96, "oe"},
                   {0x9c, "ue"}, {0x9f, "ss"}, {0xa9, "e"},  {0xa8, "e"}};
    size_t o = 0;
    for (const unsigned char *p = (const unsigned char *)name; *p && o + 3 < cap; p++) {
        if ((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9')) {
            out[o++] = (char)*p;
        } else if (*p >= 'A' && *p <= 'Z') {
            out[o++] = (char)(*p | 0x20);
        } else if (*p == 0xc3 && p[1]) {
            p++;
            for (size_t i = 0; i < KP_ARRAY_LEN(umlauts); i++)
                if (umlauts[i].b == *p)
                    put(out, cap, &o, umlauts[i].ascii);
        }
    }
    out[o] = '\0';
}

/* ---- the generator ---- */

struct demo {
    struct kp_store *s;
    struct rng r;
    int64_t now;
    int64_t teams[N_TEAMS], agents[N_AGENTS], inboxes[N_INBOXES];
    struct contact contacts[N_CONTACTS];
    /* the unresolved conversation of each contact in each inbox, 0 when none: ingest would
     * append to it instead of opening a new one */
    int64_t open_conv[N_CONTACTS][N_INBOXES];
    unsigned external; /* external ids handed out so far */
    struct kp_demo_info info;
};

static int seed_staff(struct demo *d, const char *password_hash)
{
    struct kp_store *s = d->s;
    int rc;
    for (int i = 0; i < N_TEAMS; i++)
        if ((rc = KP_STORE(s, team_create, team_names[i], &d->teams[i])))
            return rc;
    for (int i = 0; i < N_AGENTS; i++) {
        struct kp_agent_new a = {.email = agents[i].email,
                                 .name = agents[i].name,
                                 .role = agents[i].role,
                                 .password_hash = password_hash};
        if ((rc = KP_STORE(s, agent_create, &a, &d->agents[i])))
            return rc;
        for (int t = 0; t < N_TEAMS; t++)
            if ((agents[i].teams & 1u << t) &&
                (rc = KP_STORE(s, team_member, d->teams[t], d->agents[i], true)))
                return rc;
    }
    for (int i = 0; i < N_INBOXES; i++) {
        if ((rc = KP_STORE(s, inbox_create, inboxes[i].name, inboxes[i].channel,
                           d->teams[inboxes[i].team], &d->inboxes[i])))
            return rc;
        if (strcmp(inboxes[i].channel, "webchat") == 0) {
            /* random, unlike the rest: a demo published somewhere must not share its secret */
            char secret[KP_WIDGET_SECRET_LEN + 1];
            kp_api_widget_new_secret(secret);
            if ((rc = KP_STORE(s, widget_secret, d->inboxes[i], secret)))
                return rc;
        }
        if (strcmp(inboxes[i].channel, "email") == 0) {
            /* an address, but no SMTP server: replies show why they cannot go out */
            struct kp_mail_inbox box = {.inbox_id = d->inboxes[i], .imap_poll_s = 60};
            snprintf(box.address, sizeof(box.address), "support@demo.knotenpunkt.test");
            snprintf(box.imap_after, sizeof(box.imap_after), "seen");
            if ((rc = KP_STORE(s, mail_inbox_set, &box)))
                return rc;
        }
    }
    d->info.admin_id = d->agents[0];
    d->info.teams = N_TEAMS;
    d->info.agents = N_AGENTS;
    return 0;
}

static bool taken(const struct demo *d, int upto, int kind, const char *value)
{
    for (int i = 0; i < upto; i++)
        if ((d->contacts[i].kinds & 1u << kind) && strcmp(d->contacts[i].value[kind], value) == 0)
            return true;
    return false;
}

/* Writes contact i's identity of the given kind; n > 0 asks for a variant (after a clash). */
static void identity_value(struct demo *d, int i, int kind, unsigned n, unsigned rnd)
{
    struct contact *c = &d->contacts[i];
    char first[32], last[32], num[16] = "";
    slug(first, sizeof(first), c->first);
    slug(last, sizeof(last), c->last);
    if (n)
        snprintf(num, sizeof(num), "%u", n + 1);
    char *v = c->value[kind];
    size_t cap = sizeof(c->value[kind]);
    switch (kind) {
    case ID_EMAIL:
        snprintf(v, cap, "%s.%s%s@%s", first, last, num,
                 c->lang == DE ? domains_de[rnd % KP_ARRAY_LEN(domains_de)]
                               : domains_en[rnd % KP_ARRAY_LEN(domains_en)]);
        break;
    case ID_PHONE:
    case ID_WHATSAPP:
        /* the last three digits are the contact's index: numbers never clash */
        if (kind == ID_WHATSAPP && (c->kinds & 1u << ID_PHONE) && rnd % 10 < 7)
            memcpy(v, c->value[ID_PHONE], cap);
        else if (c->lang == DE)
            snprintf(v, cap, "+49%s%05u%03d", mobile_de[rnd % KP_ARRAY_LEN(mobile_de)],
                     rnd / 7 % 100000, i);
        else
            snprintf(v, cap, "+4477009%02u%03d", kind == ID_PHONE ? 0u : 1u, i);
        break;
    case ID_SHOP:
        snprintf(v, cap, "cust-%u", 10000 + (unsigned)i * 37 + rnd % 37);
        break;
    case ID_TELEGRAM:
        snprintf(v, cap, "@%s_%s%s", first, last, num);
        break;
    case ID_INSTAGRAM:
        snprintf(v, cap, "%s.%s%s", first, last, num);
        break;
    case ID_FACEBOOK:
        snprintf(v, cap, "%s.%s.%u%s", first, last, 1000 + rnd % 9000, num);
        break;
    }
}

static int seed_contact(struct demo *d, int i)
{
    struct contact *c = &d->contacts[i];
    struct rng *r = &d->r;
    c->lang = i % 2 ? EN : DE;
    if (c->lang == DE) {
        c->first = first_de[pick(r, KP_ARRAY_LEN(first_de))];
        c->last = last_de[pick(r, KP_ARRAY_LEN(last_de))];
        c->city = cities_de[pick(r, KP_ARRAY_LEN(cities_de))];
    } else {
        c->first = first_en[pick(r, KP_ARRAY_LEN(first_en))];
        c->last = last_en[pick(r, KP_ARRAY_LEN(last_en))];
        c->city = cities_en[pick(r, KP_ARRAY_LEN(cities_en))];
    }
    snprintf(c->name, sizeof(c->name), "%s %s", c->first, c->last);
    static const unsigned tier_weights[] = {40, 30, 20, 10};
    c->tier = tiers[weighted(r, tier_weights, KP_ARRAY_LEN(tier_weights))];

    /* two or three identities: most people have an address and a mobile number */
    unsigned want = 2 + pick(r, 2), have = 0;
    c->kinds = 0;
    if (chance(r, 85)) {
        c->kinds |= 1u << ID_EMAIL;
        have++;
    }
    if (chance(r, 65)) {
        c->kinds |= 1u << ID_PHONE;
        have++;
    }
    while (have < want) {
        unsigned k = pick(r, ID_N);
        if (!(c->kinds & 1u << k)) {
            c->kinds |= 1u << k;
            have++;
        }
    }
    for (int k = 0; k < ID_N; k++) {
        if (!(c->kinds & 1u << k))
            continue;
        unsigned rnd = (unsigned)next(r);
        /* names repeat, so addresses and handles get a number on a clash; numbers and shop ids
         * are unique by construction (a clash left over fails in identity_add) */
        unsigned n = 0;
        do
            identity_value(d, i, k, n++, rnd);
        while (n < 100 && taken(d, i, k, c->value[k]));
    }

    char since[8];
    snprintf(since, sizeof(since), "%u", 2015 + pick(r, 11));
    json_t *attrs = json_pack("{s:s, s:s, s:s, s:s}", "city", c->city, "customer_since", since,
                              "tier", c->tier, "language", c->lang == DE ? "de" : "en");
    if (chance(r, 30))
        json_object_set_new(attrs, "newsletter", json_true());
    struct kp_contact_new cn = {.name = c->name, .attributes = attrs};
    int rc = KP_STORE(d->s, contact_create, &cn, &c->id);
    json_decref(attrs);
    for (int k = 0; k < ID_N && !rc; k++)
        if (c->kinds & 1u << k)
            rc = KP_STORE(d->s, identity_add, c->id, kind_names[k], c->value[k], NULL);
    if (!rc)
        d->info.contacts++;
    return rc;
}

/* The identity contact c uses on inbox b, or -1 when it has none there. */
static int channel_kind(const struct contact *c, int b)
{
    if (c->kinds & 1u << inboxes[b].kind)
        return inboxes[b].kind;
    if (inboxes[b].alt >= 0 && (c->kinds & 1u << inboxes[b].alt))
        return inboxes[b].alt;
    return -1;
}

/*
 * Picks a contact that can write to inbox *b, preferring one without an unresolved
 * conversation there. Falls back to other inboxes when nobody can use *b at all; every contact
 * has at least one identity that some channel carries, so this always finds someone.
 */
static int pick_contact(struct demo *d, int *b)
{
    for (int tries = 0; tries < N_INBOXES; tries++, *b = (*b + 1) % N_INBOXES) {
        int start = (int)pick(&d->r, N_CONTACTS), busy = -1;
        for (int j = 0; j < N_CONTACTS; j++) {
            int i = (start + j) % N_CONTACTS;
            if (channel_kind(&d->contacts[i], *b) < 0)
                continue;
            if (!d->open_conv[i][*b])
                return i;
            if (busy < 0)
                busy = i;
        }
        if (busy >= 0)
            return busy;
    }
    KP_ASSERT(!"every contact has a channel identity");
    return -1;
}

static void fill_vars(struct demo *d, struct vars *v, const struct contact *c, int agent)
{
    struct rng *r = &d->r;
    int lang = c->lang;
    unsigned p = pick(r, KP_ARRAY_LEN(products));
    unsigned cents = products[p].cents;
    unsigned car = pick(r, KP_ARRAY_LEN(carriers));
    unsigned day = 1 + pick(r, 28), month = 1 + pick(r, 12);
    v->first = c->first;
    v->agent = agents[agent].first;
    v->product = products[p].name[lang];
    v->carrier = carriers[car].name;
    v->city = c->city;
    snprintf(v->order, sizeof(v->order), "KP-%06u", 100000 + pick(r, 900000));
    snprintf(v->invoice, sizeof(v->invoice), "RE-2025-%05u", 1 + pick(r, 99999));
    snprintf(v->tracking, sizeof(v->tracking), "%s%06u%06u", carriers[car].prefix, pick(r, 1000000),
             pick(r, 1000000));
    if (lang == DE) {
        snprintf(v->amount, sizeof(v->amount), "%u,%02u €", cents / 100, cents % 100);
        snprintf(v->date, sizeof(v->date), "%02u.%02u.", day, month);
    } else {
        snprintf(v->amount, sizeof(v->amount), "€%u.%02u", cents / 100, cents % 100);
        snprintf(v->date, sizeof(v->date), "%u %s", day, months_en[month - 1]);
    }
}

/* A random member of team t other than the admin (every demo team has one). */
static int team_agent(struct demo *d, int t)
{
    int members[N_AGENTS] = {0}, n = 0;
    for (int i = 0; i < N_AGENTS; i++)
        if (agents[i].teams & 1u << t)
            members[n++] = i;
    return n ? members[pick(&d->r, (unsigned)n)] : 0;
}

static int customer_says(struct demo *d, int ci, int b, int kind, const char *subject,
                         const char *text, int64_t at, int64_t *conv)
{
    const struct contact *c = &d->contacts[ci];
    char ext[24];
    snprintf(ext, sizeof(ext), "demo-%u", ++d->external);
    struct kp_inbound in = {
        .inbox_id = d->inboxes[b],
        .channel = inboxes[b].channel,
        .identity_kind = kind_names[kind],
        .identity_value = c->value[kind],
        .sender_name = c->name,
        .subject = strcmp(inboxes[b].channel, "email") == 0 ? subject : NULL,
        .text = text,
        .external_id = ext,
        .sent_at_ms = at,
    };
    struct kp_ingest_result res;
    int rc = KP_STORE(d->s, ingest, &in, &res);
    if (rc)
        return rc;
    /* a demo contact exists already, and a follow-up joins the thread its opening started:
     * anything else means the store links messages differently than this generator assumes */
    if (res.new_contact || res.contact_id != c->id ||
        (*conv ? res.conversation_id != *conv : !res.new_conversation))
        return KP_ECONFLICT;
    *conv = res.conversation_id;
    d->info.messages++;
    return 0;
}

static int agent_says(struct demo *d, int64_t conv, int agent, const char *direction,
                      const char *text, int64_t at)
{
    struct kp_message_new m = {.conversation_id = conv,
                               .direction = direction,
                               .author_agent_id = d->agents[agent],
                               .text = text,
                               .at_ms = at};
    int64_t id;
    int rc = KP_STORE(d->s, message_add, &m, &id);
    if (!rc)
        d->info.messages++;
    return rc;
}

/* The turns of a conversation, in order; a conversation is the first 1-6 of them. */
enum turn { T_OPEN, T_REPLY, T_FOLLOW, T_NOTE, T_CLOSING, T_THANKS, T_N };

static int seed_conversation(struct demo *d)
{
    struct rng *r = &d->r;
    unsigned weights[N_INBOXES];
    for (int i = 0; i < N_INBOXES; i++)
        weights[i] = inboxes[i].weight;
    int b = (int)weighted(r, weights, N_INBOXES);
    int ci = pick_contact(d, &b);
    const struct contact *c = &d->contacts[ci];
    int kind = channel_kind(c, b), rc;
    if (d->open_conv[ci][b]) {
        struct kp_conv_change done = {.state = "resolved"};
        if ((rc = KP_STORE(d->s, conversation_update, d->open_conv[ci][b], &done)))
            return rc;
        d->open_conv[ci][b] = 0;
    }

    const struct topic *tp = &topics[pick(r, KP_ARRAY_LEN(topics))];
    const struct text *tx = &tp->t[c->lang];
    int team = inboxes[b].team;
    if (tp->team >= 0 && tp->team != team && chance(r, 60))
        team = tp->team; /* routed to the team the topic belongs to */
    int agent = team_agent(d, team);
    struct vars v;
    fill_vars(d, &v, c, agent);

    static const unsigned len_weights[] = {15, 20, 25, 15, 13, 12};
    int n = 1 + (int)weighted(r, len_weights, KP_ARRAY_LEN(len_weights));
    int64_t at = d->now - DAY_MS - (int64_t)(next(r) % (59ULL * DAY_MS));
    int64_t conv = 0;
    char subject[256], text[TEXT_MAX];
    expand(subject, sizeof(subject), tx->subject, &v);
    enum turn last = T_OPEN;
    for (int t = 0; t < n && t < T_N; t++) {
        switch ((enum turn)t) {
        case T_OPEN:
            expand(text, sizeof(text), tx->open, &v);
            break;
        case T_REPLY:
            expand(text, sizeof(text), tx->reply, &v);
            break;
        case T_FOLLOW:
            expand(text, sizeof(text), tx->follow, &v);
            break;
        case T_NOTE:
            expand(text, sizeof(text), notes[c->lang][pick(r, 4)], &v);
            break;
        case T_CLOSING:
            expand(text, sizeof(text), closings[c->lang][pick(r, 3)], &v);
            break;
        case T_THANKS:
            expand(text, sizeof(text), thanks[c->lang][pick(r, 3)], &v);
            break;
        case T_N:
            break;
        }
        if (t == T_OPEN || t == T_FOLLOW || t == T_THANKS)
            rc = customer_says(d, ci, b, kind, subject, text, at, &conv);
        else
            rc = agent_says(d, conv, agent, t == T_NOTE ? "note" : "out", text, at);
        if (rc)
            return rc;
        if (t != T_NOTE)
            last = (enum turn)t;
        at += 5 * 60 * 1000 + (int64_t)pick(r, 3 * 60 * 60 * 1000);
    }

    /* the state follows who spoke last: a waiting customer is rarely pending */
    static const char *const states[] = {"open", "pending", "snoozed", "resolved"};
    static const unsigned customer_last[] = {70, 0, 10, 20}, agent_last[] = {5, 45, 10, 40};
    bool waiting = last == T_OPEN || last == T_FOLLOW;
    const char *state = states[weighted(r, waiting ? customer_last : agent_last, 4)];
    static const char *const prios[] = {"low", "normal", "high", "urgent"};
    static const unsigned hot[] = {5, 35, 40, 20}, calm[] = {20, 65, 12, 3};
    struct kp_conv_change ch = {
        .state = state,
        .priority = prios[weighted(r, tp->hot ? hot : calm, 4)],
        .team_id = team != inboxes[b].team ? d->teams[team] : 0,
        /* whoever answered owns it; a fresh question is assigned now and then */
        .assignee_id = (n > 1 ? chance(r, 90) : chance(r, 30)) ? d->agents[agent] : 0,
    };
    if ((rc = KP_STORE(d->s, conversation_update, conv, &ch)))
        return rc;
    if (strcmp(state, "resolved") != 0)
        d->open_conv[ci][b] = conv;
    for (size_t i = 0; i < KP_ARRAY_LEN(tp->tags) && tp->tags[i]; i++)
        if ((rc = KP_STORE(d->s, conversation_tag, conv, tp->tags[i], true)))
            return rc;
    if (strcmp(c->tier, "platinum") == 0 &&
        (rc = KP_STORE(d->s, conversation_tag, conv, "vip", true)))
        return rc;
    d->info.conversations++;
    return 0;
}

/* The customer signed in to the demo shop: the first German contact with an email address and
 * two identities gets the shop account KP_DEMO_SHOP_CUSTOMER and a last order, so that the chat
 * widget greets him by name and asks about it. */
static int seed_shop_customer(struct demo *d)
{
    for (int i = 0; i < N_CONTACTS; i++) {
        struct contact *c = &d->contacts[i];
        unsigned kinds = 0;
        for (int k = 0; k < ID_N; k++)
            kinds += (c->kinds >> k) & 1u;
        if (c->lang != DE || !(c->kinds & 1u << ID_EMAIL) || (c->kinds & 1u << ID_SHOP) ||
            kinds != 2)
            continue;
        int rc = KP_STORE(d->s, identity_add, c->id, "shop", KP_DEMO_SHOP_CUSTOMER, NULL);
        if (rc)
            return rc;
        c->kinds |= 1u << ID_SHOP;
        snprintf(c->value[ID_SHOP], sizeof(c->value[ID_SHOP]), "%s", KP_DEMO_SHOP_CUSTOMER);
        char order[16];
        snprintf(order, sizeof(order), "KP-%06u", 100000 + (unsigned)(c->id * 7919 % 900000));
        json_t *attrs = json_pack("{ss}", "last_order", order);
        rc = KP_STORE(d->s, contact_update, c->id, NULL, attrs);
        json_decref(attrs);
        return rc;
    }
    return 0;
}

/* ---- canned answers ---- */

static const struct {
    const char *shortcut, *title, *body;
} canned[] = {
    {"hallo", "Begrüßung",
     "Hallo {{contact.first_name}},\n\nvielen Dank für Ihre Nachricht! Ich kümmere mich gerne "
     "darum."},
    {"hello", "Greeting",
     "Hi {{contact.first_name}},\n\nthanks for getting in touch! I'm happy to help."},
    {"lieferverzug", "Lieferverzögerung",
     "Hallo {{contact.first_name}},\n\nes tut uns leid, dass Ihre Bestellung noch nicht "
     "angekommen ist. Unser Versandpartner meldet zurzeit ein bis zwei Werktage Verzögerung. "
     "Sobald sich der Status ändert, schicken wir Ihnen eine E-Mail an {{contact.email}}."},
    {"shipping-delay", "Shipping delay",
     "Hi {{contact.first_name}},\n\nI'm sorry your order hasn't arrived yet. Our carrier is "
     "running one to two working days behind at the moment. We'll email you at "
     "{{contact.email}} as soon as the status changes."},
    {"retoure", "Retourenlabel",
     "Hallo {{contact.first_name}},\n\nim Anhang finden Sie Ihr kostenloses Retourenlabel. "
     "Bitte legen Sie einen Zettel mit der Vorgangsnummer {{conversation.id}} ins Paket, dann "
     "können wir die Rücksendung schneller zuordnen."},
    {"return-label", "Return label",
     "Hi {{contact.first_name}},\n\nplease find your free return label attached. Put a note "
     "with case number {{conversation.id}} in the parcel so that we can match your return "
     "quickly."},
    {"refund", "Refund issued",
     "Hi {{contact.first_name}},\n\ngood news: we have issued your refund. Depending on your "
     "bank it will show on your statement within three to five working days."},
    {"passwort", "Passwort zurücksetzen",
     "Hallo {{contact.first_name}},\n\nüber „Passwort vergessen“ auf der Anmeldeseite können "
     "Sie ein neues Passwort vergeben. Der Link geht an {{contact.email}} und ist 24 Stunden "
     "gültig."},
    {"tschuess", "Verabschiedung",
     "Ich hoffe, ich konnte Ihnen weiterhelfen. Einen schönen Tag noch!\n\nViele "
     "Grüße\n{{agent.first_name}}"},
    {"bye", "Closing", "I hope this helps. Have a lovely day!\n\nBest regards,\n{{agent.name}}"},
};

static int seed_canned(struct demo *d)
{
    for (size_t i = 0; i < KP_ARRAY_LEN(canned); i++) {
        struct kp_canned_new in = {canned[i].shortcut, canned[i].title, canned[i].body,
                                   d->agents[0]};
        int64_t id;
        int rc = KP_STORE(d->s, canned_create, &in, &id);
        if (rc)
            return rc;
    }
    return 0;
}

static int seed_all(struct demo *d, const char *password_hash)
{
    json_t *list;
    int rc = KP_STORE(d->s, agent_list, &list);
    if (rc)
        return rc;
    size_t have = json_array_size(list);
    json_decref(list);
    if (have)
        return KP_EEXIST;
    if ((rc = seed_staff(d, password_hash)) || (rc = seed_canned(d)))
        return rc;
    for (int i = 0; i < N_CONTACTS; i++)
        if ((rc = seed_contact(d, i)))
            return rc;
    for (int i = 0; i < N_CONVERSATIONS; i++)
        if ((rc = seed_conversation(d)))
            return rc;
    return seed_shop_customer(d);
}

int kp_demo_seed(struct kp_store *s, unsigned seed, const char *password_hash,
                 struct kp_demo_info *out)
{
    struct demo *d = kp_xcalloc(1, sizeof(*d));
    d->s = s;
    d->r.s = seed;
    d->now = kp_clock_now_ms();
    int rc = KP_STORE0(s, begin);
    if (rc) {
        free(d);
        return rc;
    }
    rc = seed_all(d, password_hash);
    if (!rc)
        rc = KP_STORE0(s, commit);
    if (rc)
        KP_STORE0(s, rollback);
    else
        rc = kp_pipeline_run(s); /* analysis and search index, as for any message */
    if (!rc && out)
        *out = d->info;
    free(d);
    return rc;
}
