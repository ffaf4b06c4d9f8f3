"""The words seeded conversations are made of: names, companies, agents, topics and phrases.

Phrases are ``str.format`` templates. The generator fills them from a per-conversation mapping that
invents a value the first time a placeholder is used, so one conversation mentions one order
number throughout. Placeholders: ``{first}`` (the caller's first name, or "there"), ``{company}``,
``{agent}`` (the assistant's persona name), ``{team}``, ``{medium}`` ("call", "chat", ...),
``{caller}`` (sentence subject for summaries), ``{reached_out}`` ("called", "was emailed", ...),
``{callback}``, and topic details: ``{order}``, ``{invoice}``, ``{amount}``, ``{last4}``,
``{day}``, ``{time}``, ``{plan}``, ``{plan_up}``, ``{claim}``, ``{ticket}``, ``{tracking}``,
``{carrier}``, ``{city}``, ``{device}``, ``{item}``, ``{doctor}``, ``{days}``.
"""

from __future__ import annotations

from dataclasses import dataclass

# Names from many places, so the inbox looks like a real customer base. Accents are kept in the
# display name and stripped for email addresses.
FIRST_NAMES: tuple[str, ...] = (
    "Aisha", "Carlos", "Mei", "Olusegun", "Priya", "Liam", "Sofia", "Hiroshi", "Fatima", "Mateo",
    "Chloé", "Dmitri", "Amara", "Noah", "Yuki", "Inês", "Kwame", "Elena", "Rahul", "Zoe",
    "Omar", "Hannah", "Jamal", "Lucía", "Wei", "Astrid", "Tariq", "Nadia", "Diego", "Grace",
    "Arjun", "Leila", "Samuel", "Anh", "Ngozi", "Emma", "Malik", "Sara", "Kenji", "Isabella",
    "Javier", "Chidi", "Freya", "Ravi", "Alejandro", "Bianca", "Tomás", "Ayesha", "Lars", "Mariam",
    "Ethan", "Olivia", "Mohammed", "Ana", "Jin", "Camille", "Kofi", "Sven", "Valentina", "Daniel",
    "Thandiwe", "Rosa", "Ibrahim", "Maya", "Luca", "Siobhan", "Andrés", "Keiko", "Benjamin", "Zainab",
)  # fmt: skip

LAST_NAMES: tuple[str, ...] = (
    "García", "Smith", "Nguyen", "Okafor", "Patel", "Müller", "Kim", "Johnson", "Rossi", "Haddad",
    "Kowalski", "Tanaka", "Silva", "O'Brien", "Ivanova", "Mensah", "Chen", "Hernández", "Singh", "Cohen",
    "Dubois", "Andersson", "Williams", "Yilmaz", "Nakamura", "Adeyemi", "Fernández", "Brown", "Khan",
    "Murphy", "Lopez", "Park", "Schmidt", "Ali", "Santos", "Novak", "Jones", "Ramírez", "Wang",
    "Hughes", "Abubakar", "Costa", "Martin", "Goldberg", "Begum", "Moreau", "Takahashi", "Mwangi",
    "Reyes", "Fischer", "Kaur", "Jensen", "Okonkwo", "Petrov", "Rahman", "Taylor", "Ortiz", "Sato",
)  # fmt: skip

# Mailbox providers for customers' addresses; a few look like workplaces.
EMAIL_DOMAINS: tuple[str, ...] = (
    "gmail.com", "gmail.com", "gmail.com", "outlook.com", "outlook.com", "yahoo.com", "icloud.com",
    "hotmail.com", "proton.me", "aol.com", "fastmail.com", "northwind-traders.com", "contoso.com",
    "fabrikam.io", "globex.net",
)  # fmt: skip

# (display name, domain). An org's company is picked from its slug, so it never changes between runs.
COMPANIES: tuple[tuple[str, str], ...] = (
    ("Acme Health", "acme-health.com"),
    ("Northwind Telecom", "northwind-telecom.com"),
    ("Bluebird Insurance", "bluebird-insurance.com"),
    ("Cedar Bank", "cedarbank.com"),
    ("Lumen Home Goods", "lumenhome.com"),
    ("Harbor Energy", "harbor-energy.com"),
    ("Pinecrest Clinics", "pinecrest-clinics.com"),
    ("Swift Parcel", "swiftparcel.com"),
)


@dataclass(frozen=True, slots=True)
class AgentTemplate:
    """An AI agent the seeder may create: its name, the persona it introduces itself as, the
    mailbox local part it writes from, and the topics it mostly handles."""

    name: str
    persona: str
    mailbox: str
    topics: tuple[str, ...]


AGENT_TEMPLATES: tuple[AgentTemplate, ...] = (
    AgentTemplate("Billing Assistant", "Maya", "billing", ("billing", "refund", "plan_upgrade")),
    AgentTemplate("Appointment Scheduler", "Leo", "appointments", ("appointment", "prescription")),
    AgentTemplate("Order Tracker", "Sam", "orders", ("order_status", "delivery", "refund")),
    AgentTemplate("Tech Support", "Iris", "help", ("outage", "password_reset", "account_update")),
    AgentTemplate("Claims Intake", "Noor", "claims", ("insurance_claim", "billing")),
    AgentTemplate("Sales Concierge", "Theo", "sales", ("plan_upgrade", "cancellation")),
    AgentTemplate("Customer Care", "Ava", "support", ()),  # no specialty: any topic
    AgentTemplate("Account Security", "Kai", "security", ("password_reset", "account_update")),
)

VERSION_NOTES: tuple[str, ...] = (
    "Initial release.",
    "Shorter greeting and faster hand-off to humans.",
    "Added the refund policy to the knowledge base.",
    "Tuned identity verification questions.",
    "New escalation rules for angry callers.",
    "Switched to the new voice and speaking rate.",
    "Reads back confirmation numbers digit by digit.",
    "Handles Spanish-speaking callers.",
    "Fewer hold messages; summarises before transferring.",
)


@dataclass(frozen=True, slots=True)
class Case:
    """One concrete reason to get in touch, told the same way from first line to summary.

    ``opener`` is the first thing said by whoever started it (the customer inbound, the agent
    outbound), ``resolution`` the agent's line that settles it, ``about`` the summary's first
    sentence and ``outcome`` its second when the case was resolved.
    """

    opener: str
    resolution: str
    about: str
    outcome: str


@dataclass(frozen=True, slots=True)
class Topic:
    """What a conversation is about: its cases, the lines either side may say in between, the
    team a transfer goes to, and what a voicemail is "calling about". A topic without
    ``outbound_cases`` is never the reason an agent reaches out."""

    key: str
    team: str
    voicemail: str
    cases: tuple[Case, ...]
    agent_lines: tuple[str, ...]
    caller_lines: tuple[str, ...]
    follow_ups: tuple[str, ...] = ()
    outbound_cases: tuple[Case, ...] = ()


TOPICS: tuple[Topic, ...] = (
    Topic(
        key="billing",
        team="billing",
        voicemail="your latest invoice",
        cases=(
            Case(
                "Hi, I was charged twice for my last bill and I'd like to understand why.",
                "I've reversed the duplicate charge of {amount}; it will be back on your card in 3 to 5 "
                "business days.",
                "{caller} {reached_out} about a duplicate charge of {amount}.",
                "The agent reversed the duplicate charge.",
            ),
            Case(
                "Hello, invoice {invoice} says {amount}, which is a lot more than I usually pay.",
                "The increase is a one-off equipment fee; I've split it over your next three bills.",
                "{caller} {reached_out} because invoice {invoice} was higher than expected.",
                "The agent explained the one-off fee and spread it over three bills.",
            ),
            Case(
                "It's about my bill: a late fee was added even though I paid on time.",
                "I've waived the late fee and emailed you an updated invoice.",
                "{caller} {reached_out} to dispute a late fee.",
                "The late fee was waived and an updated invoice was sent.",
            ),
        ),
        agent_lines=(
            "I'm sorry about that. Can you confirm the full name on the account?",
            "Thanks. Could you give me the last four digits of the card on file?",
            "I can see invoice {invoice} for {amount}. Let me go through the line items.",
            "Just to confirm, is the billing address still the same?",
            "I can see the payment you mentioned on our side.",
            "Would you like me to turn on autopay so this doesn't happen again?",
        ),
        caller_lines=(
            "Sure, it's under my name.",
            "The card ends in {last4}.",
            "Yes, that's the one.",
            "I paid it through the app last week.",
            "Yes, the address hasn't changed.",
            "Okay, that makes sense.",
            "I just want to make sure it doesn't happen again.",
        ),
        follow_ups=("The change shows on the next statement.", "No further action is needed."),
        outbound_cases=(
            Case(
                "I'm reaching out because the payment for invoice {invoice} didn't go through.",
                "Thanks, the payment with the new card went through, and your account is up to date.",
                "{caller} {reached_out} about a failed payment on invoice {invoice}.",
                "The customer updated their card and the payment went through.",
            ),
            Case(
                "This is a friendly reminder that your balance of {amount} is due on {day}.",
                "I've scheduled the payment of {amount} for {day} as you asked.",
                "{caller} {reached_out} with a reminder that {amount} is due on {day}.",
                "The agent scheduled the payment for {day}.",
            ),
        ),
    ),
    Topic(
        key="appointment",
        team="scheduling",
        voicemail="your upcoming appointment",
        cases=(
            Case(
                "Hi, I need to reschedule my appointment with {doctor} on {day}.",
                "You're all set for {day} at {time} with {doctor}. You'll get a text confirmation shortly.",
                "{caller} {reached_out} to reschedule an appointment with {doctor}.",
                "The appointment was moved to {day} at {time}.",
            ),
            Case(
                "I'd like to book a follow-up visit, the earliest you have.",
                "Done: your follow-up is on {day} at {time}. Please bring your insurance card.",
                "{caller} {reached_out} to book a follow-up visit.",
                "The agent booked a follow-up on {day} at {time}.",
            ),
            Case(
                "Hi, something came up and I can't make my appointment on {day} at {time}.",
                "I've cancelled that slot and put you on the waitlist for earlier openings.",
                "{caller} {reached_out} because they could not make their {day} appointment.",
                "The appointment was cancelled and the patient added to the waitlist.",
            ),
        ),
        agent_lines=(
            "Of course. Can I have your date of birth to pull up the booking?",
            "I see you're booked with {doctor} on {day} at {time}.",
            "Would you prefer mornings or afternoons?",
            "Do you want to keep the same provider, {doctor}?",
            "There's an opening on {day} at {time}. Would that work?",
            "Is the mobile number we have on file still the best way to reach you?",
        ),
        caller_lines=(
            "Sure, it's the fourth of May, nineteen eighty-six.",
            "Afternoons are better for me.",
            "I'd like to stay with {doctor} if I can.",
            "Yes, {day} at {time} works.",
            "Yes, that number is fine.",
            "Do I need to bring anything?",
        ),
        follow_ups=("A confirmation text was sent.", "The patient was asked to arrive ten minutes early."),
        outbound_cases=(
            Case(
                "I'm calling to confirm your appointment with {doctor} on {day} at {time}.",
                "Great, you're confirmed. We'll see you on {day} at {time}.",
                "{caller} {reached_out} to confirm an appointment with {doctor} on {day}.",
                "The patient confirmed the appointment.",
            ),
            Case(
                "We need to move your appointment on {day} because {doctor} is unavailable.",
                "I've moved you to {day} at {time} with {doctor}; a new confirmation is on its way.",
                "{caller} {reached_out} because {doctor} is unavailable on {day}.",
                "The appointment was moved to {day} at {time}.",
            ),
        ),
    ),
    Topic(
        key="order_status",
        team="fulfilment",
        voicemail="your recent order",
        cases=(
            Case(
                "Hi, I'm checking on order number {order}. It still says processing.",
                "It ships today and should arrive in {days} business days. I've sent the tracking link.",
                "{caller} {reached_out} to check on order {order}.",
                "The agent confirmed the order ships today and shared tracking number {tracking}.",
            ),
            Case(
                "Hi, I ordered a {item} last week and haven't heard anything since.",
                "I've upgraded the shipping at no cost, so your {item} will arrive by {day}.",
                "{caller} {reached_out} asking when their {item} would ship.",
                "Shipping was upgraded for free so the {item} arrives by {day}.",
            ),
        ),
        agent_lines=(
            "Let me look that up. Can you confirm the email address on the order?",
            "I found order {order} for a {item}.",
            "The {item} was on backorder, but stock arrived this morning.",
            "It's packed and waiting for the {carrier} pickup.",
            "Your tracking number is {tracking}.",
            "Would you like updates by text as well?",
        ),
        caller_lines=(
            "It should be the one I always use.",
            "Yes, that's the order.",
            "Okay, so when should I expect it?",
            "I need it before the weekend if possible.",
            "Yes, texts would be great.",
        ),
        follow_ups=("Text updates were turned on.",),
        outbound_cases=(
            Case(
                "I'm reaching out about order {order}: the {item} is delayed by a few days.",
                "I've added a {amount} credit for the wait; the {item} now arrives by {day}.",
                "{caller} {reached_out} about a delay on order {order}.",
                "The agent apologised and applied a credit of {amount}.",
            ),
            Case(
                "Good news: your order {order} has shipped with {carrier}.",
                "Your tracking number is {tracking}; it should arrive by {day}.",
                "{caller} {reached_out} to say order {order} had shipped.",
                "The agent shared tracking number {tracking}.",
            ),
        ),
    ),
    Topic(
        key="password_reset",
        team="account security",
        voicemail="your account access",
        cases=(
            Case(
                "Hi, I'm locked out of my account and the reset email never arrives.",
                "Your account is unlocked. I've sent a fresh reset link that's valid for 30 minutes.",
                "{caller} {reached_out} because they were locked out of their account.",
                "The agent verified their identity and unlocked the account.",
            ),
            Case(
                "Hello, I forgot my password and the reset link says it's expired.",
                "Done. I've sent a new reset link; you can sign in and choose a new password.",
                "{caller} {reached_out} about a password reset link that had expired.",
                "A new reset link was sent after verifying their identity.",
            ),
        ),
        agent_lines=(
            "I can help. For security, can you confirm the email address on the account?",
            "Thanks. I'm sending a one-time code to the phone number ending in {last4}.",
            "Could you read me the six-digit code when it arrives?",
            "Reset emails sometimes land in the spam folder. Could you check there?",
            "The account was locked after five failed attempts; I can unlock it now.",
        ),
        caller_lines=(
            "Sure, it's my personal email.",
            "Okay, I got the code.",
            "It's 4 8 1 9 2 7.",
            "Nothing in spam either.",
            "Yes please, unlock it.",
            "Do I have to set up two-factor again?",
        ),
        follow_ups=("The customer was reminded to check their spam folder.",),
    ),
    Topic(
        key="delivery",
        team="delivery",
        voicemail="your delivery",
        cases=(
            Case(
                "Hi, my package says delivered but it's not here.",
                "I've opened a trace with {carrier} and sent a replacement that arrives by {day}.",
                "{caller} {reached_out} because a package marked delivered never arrived.",
                "The agent opened a trace with {carrier} and sent a replacement.",
            ),
            Case(
                "Hello, the {item} I ordered arrived damaged.",
                "I've sent a replacement {item} by express shipping; it arrives by {day}.",
                "{caller} {reached_out} because their {item} arrived damaged.",
                "A replacement was sent by express shipping.",
            ),
            Case(
                "The driver left my parcel at the wrong address in {city}.",
                "{carrier} will collect it and redeliver tomorrow; I've added a {amount} credit for the hassle.",
                "{caller} {reached_out} because a parcel was left at the wrong address in {city}.",
                "A redelivery was booked and a credit of {amount} applied.",
            ),
        ),
        agent_lines=(
            "I'm sorry to hear that. What's the order number?",
            "I see {carrier} marked it delivered yesterday at {time}.",
            "Could you send a photo by email so I can attach it to the case?",
            "Thanks, I've noted that on the order.",
        ),
        caller_lines=(
            "It's order {order}.",
            "I'll send the photo right away.",
            "I'd rather have a replacement than a refund.",
            "How long will that take?",
        ),
        follow_ups=("The customer will email a photo for the claim.",),
        outbound_cases=(
            Case(
                "We couldn't deliver your parcel in {city} today and want to arrange a new time.",
                "Booked: {carrier} will come back on {day} between 9 and 1.",
                "{caller} {reached_out} to rearrange a failed delivery in {city}.",
                "A new delivery was booked for {day}.",
            ),
        ),
    ),
    Topic(
        key="refund",
        team="returns",
        voicemail="your refund request",
        cases=(
            Case(
                "Hi, I returned a {item} two weeks ago and still haven't got my refund.",
                "I've issued the refund of {amount}; you'll see it in 3 to 5 business days.",
                "{caller} {reached_out} about a missing refund for a returned {item}.",
                "A refund of {amount} was issued to their card.",
            ),
            Case(
                "Hello, I'd like a refund for order {order}.",
                "I've added {amount} in store credit, available right away.",
                "{caller} {reached_out} to request a refund for order {order}.",
                "The agent issued {amount} in store credit.",
            ),
        ),
        agent_lines=(
            "Let me check. What's the order number?",
            "The return was received on {day}; refunds take up to ten days to process.",
            "The item was outside the 30-day window, but I can make an exception.",
            "Would you prefer store credit, which is instant, or a card refund?",
        ),
        caller_lines=(
            "It's order {order}.",
            "I sent it back with the prepaid label.",
            "I haven't seen anything on my statement.",
            "Whichever is faster.",
        ),
        follow_ups=("A confirmation email was sent.",),
    ),
    Topic(
        key="plan_upgrade",
        team="sales",
        voicemail="an upgrade to your plan",
        cases=(
            Case(
                "Hi, I'm thinking about upgrading from the {plan} plan.",
                "You're now on {plan_up}. The new price starts on your next bill.",
                "{caller} {reached_out} about upgrading from {plan} to {plan_up}.",
                "The account was upgraded to {plan_up}.",
            ),
            Case(
                "Hello, what's the difference between {plan} and {plan_up}?",
                "Your {plan_up} trial is active for 14 days; I'll send a reminder before it ends.",
                "{caller} {reached_out} comparing the {plan} and {plan_up} plans.",
                "The agent started a 14-day {plan_up} trial.",
            ),
        ),
        agent_lines=(
            "Happy to help. {plan_up} adds priority support and twice the storage.",
            "It would be {amount} a month.",
            "The change is prorated, so you only pay the difference this month.",
            "Can I confirm the account holder's name?",
        ),
        caller_lines=(
            "That sounds good.",
            "Is there an annual discount?",
            "Can I downgrade later if I don't need it?",
            "Yes, go ahead.",
        ),
        follow_ups=("The new price applies from the next bill.",),
        outbound_cases=(
            Case(
                "You qualify for a free month of {plan_up}, and I wanted to see if you're interested.",
                "Your free month of {plan_up} starts today; you can switch back any time.",
                "{caller} {reached_out} with an offer to try {plan_up}.",
                "The customer accepted a free month of {plan_up}.",
            ),
        ),
    ),
    Topic(
        key="outage",
        team="technical support",
        voicemail="the service outage in your area",
        cases=(
            Case(
                "Hi, my internet has been down since this morning.",
                "Engineers expect the service back by {time}; I've added a credit of {amount} for the downtime.",
                "{caller} {reached_out} about an internet outage in {city}.",
                "The agent confirmed a regional outage and applied a credit of {amount}.",
            ),
            Case(
                "Hello, the connection keeps dropping every few minutes.",
                "The line test passed after the restart, so you should be back online now.",
                "{caller} {reached_out} because the connection kept dropping.",
                "Restarting the {device} fixed the connection.",
            ),
        ),
        agent_lines=(
            "I'm sorry about that. Which city are you in?",
            "Could you restart the {device} by unplugging it for thirty seconds?",
            "What colour is the light on the front of the {device}?",
            "I'm running a line test now; it takes about a minute.",
            "Your ticket number is {ticket}.",
        ),
        caller_lines=(
            "I'm in {city}.",
            "The light is blinking orange.",
            "Okay, I've restarted it.",
            "I work from home, so this is urgent.",
            "How long will it take?",
        ),
        follow_ups=("Ticket {ticket} tracks the issue.",),
        outbound_cases=(
            Case(
                "We're letting customers in {city} know about an outage we're working to fix.",
                "We expect service back by {time}, and a credit of {amount} will be on your next bill.",
                "{caller} {reached_out} about an outage in {city}.",
                "The agent shared the expected fix time and a credit of {amount}.",
            ),
        ),
    ),
    Topic(
        key="insurance_claim",
        team="claims",
        voicemail="your claim {claim}",
        cases=(
            Case(
                "Hi, I need to file a claim. Someone backed into my car yesterday.",
                "I've opened claim {claim} and assigned an adjuster; you'll hear from them within two days.",
                "{caller} {reached_out} to file a claim after an accident in {city}.",
                "Claim {claim} was opened and an adjuster assigned.",
            ),
            Case(
                "Hello, I'm checking on claim {claim}.",
                "Your claim {claim} is approved, and payment goes out within five business days.",
                "{caller} {reached_out} for an update on claim {claim}.",
                "The agent confirmed claim {claim} is approved.",
            ),
            Case(
                "Hi, my basement flooded and I want to know if I'm covered.",
                "Your policy covers it after the {amount} deductible; I've opened claim {claim}.",
                "{caller} {reached_out} about water damage coverage.",
                "The agent confirmed coverage and opened claim {claim}.",
            ),
        ),
        agent_lines=(
            "I'm sorry that happened. Is everyone safe?",
            "Can you give me your policy number?",
            "When and where did it happen?",
            "Your deductible on this policy is {amount}.",
            "Please upload photos of the damage through the app.",
        ),
        caller_lines=(
            "Yes, everyone is fine.",
            "It happened yesterday afternoon in {city}.",
            "I have photos on my phone.",
            "Will this raise my premium?",
            "Okay, I'll upload them tonight.",
        ),
        follow_ups=("The customer will upload photos of the damage.",),
        outbound_cases=(
            Case(
                "I'm following up on claim {claim}; we need a few more photos of the damage.",
                "Thanks, once the photos arrive the adjuster will finish claim {claim} within two days.",
                "{caller} {reached_out} to request photos for claim {claim}.",
                "The customer agreed to upload the photos.",
            ),
        ),
    ),
    Topic(
        key="account_update",
        team="customer care",
        voicemail="a change to your account",
        cases=(
            Case(
                "Hi, I moved and need to update my address.",
                "Your new address in {city} is saved, and a confirmation has been sent.",
                "{caller} {reached_out} to update their address after moving to {city}.",
                "The agent verified their identity and saved the new address.",
            ),
            Case(
                "Hello, I'd like to change the email address on my account.",
                "The new email address is confirmed and now on your account.",
                "{caller} {reached_out} to change the email address on their account.",
                "The agent verified the new address with a code and saved it.",
            ),
        ),
        agent_lines=(
            "Sure. For security, can you confirm your date of birth?",
            "Thanks. What's the new one?",
            "I'll send a confirmation code to check it.",
        ),
        caller_lines=(
            "Sure, it's the twelfth of October.",
            "It's 42 Harbour Street in {city}.",
            "I got the code, it's 3 3 0 7 1 5.",
        ),
    ),
    Topic(
        key="cancellation",
        team="retention",
        voicemail="your subscription",
        cases=(
            Case(
                "Hi, I want to cancel my subscription.",
                "I've cancelled the subscription; it stays active until {day}.",
                "{caller} {reached_out} to cancel their subscription.",
                "The subscription was cancelled at the end of the period.",
            ),
            Case(
                "I'd like to pause my account for a few months.",
                "I've paused your account for three months, with no charges in that time.",
                "{caller} {reached_out} asking to pause their account.",
                "The account was paused for three months.",
            ),
        ),
        agent_lines=(
            "I'm sorry to see you go. May I ask why?",
            "I can offer three months at half price if you'd like to stay.",
            "You can also pause for up to six months at no cost.",
            "Your service runs until the end of the current billing period.",
        ),
        caller_lines=(
            "It's just too expensive right now.",
            "No thanks, I've made up my mind.",
            "Will I lose my saved data?",
            "Okay.",
        ),
        outbound_cases=(
            Case(
                "Your subscription renews next week, and I wanted to check your plan still fits.",
                "I've switched you to {plan} from the next renewal, which saves {amount} a month.",
                "{caller} {reached_out} ahead of their subscription renewal.",
                "The customer moved to the {plan} plan at renewal.",
            ),
        ),
    ),
    Topic(
        key="prescription",
        team="pharmacy",
        voicemail="your prescription",
        cases=(
            Case(
                "Hi, I need a refill of my blood pressure prescription.",
                "The refill request is with {doctor}; you'll get a text when it's sent to the pharmacy.",
                "{caller} {reached_out} to request a prescription refill.",
                "The agent sent a refill request to {doctor}.",
            ),
            Case(
                "Hello, my pharmacy says the prescription from {doctor} expired.",
                "{doctor} renewed it this morning; the pharmacy can fill it from {day}.",
                "{caller} {reached_out} about an expired prescription from {doctor}.",
                "The prescription was renewed by {doctor}.",
            ),
        ),
        agent_lines=(
            "I can help. Which pharmacy do you use?",
            "Can you confirm your date of birth?",
            "Approvals usually take one business day.",
        ),
        caller_lines=(
            "The one on Main Street in {city}.",
            "I have about three days of pills left.",
            "Could they have it ready by {day}?",
        ),
        outbound_cases=(
            Case(
                "Your prescription is ready to pick up at the pharmacy.",
                "They're open until 8 PM, and your order number is {order}.",
                "{caller} {reached_out} to say their prescription was ready.",
                "The patient will pick it up at the pharmacy.",
            ),
        ),
    ),
)

TOPICS_BY_KEY: dict[str, Topic] = {topic.key: topic for topic in TOPICS}

# Values for the detail placeholders; the generator picks one per conversation.
ITEMS: tuple[str, ...] = (
    "pair of wireless headphones", "standing desk", "coffee grinder", "pair of running shoes",
    "air purifier", "phone case", "desk lamp", "blender", "rain jacket", "smart thermostat",
)  # fmt: skip
CITIES: tuple[str, ...] = (
    "Oakland", "Austin", "Leeds", "Toronto", "Denver", "Manchester", "Phoenix", "Brisbane",
    "Lagos", "Lyon", "Osaka", "Seattle", "Madrid", "Nairobi", "Chicago", "Pune",
)  # fmt: skip
CARRIERS: tuple[str, ...] = ("UPS", "FedEx", "USPS", "DHL", "Royal Mail")
DEVICES: tuple[str, ...] = ("router", "modem", "set-top box", "Wi-Fi extender")
PLANS: tuple[str, ...] = ("Basic", "Standard", "Plus", "Premium", "Business")
WEEKDAYS: tuple[str, ...] = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday")
TIMES: tuple[str, ...] = (
    "8:30 AM", "9:00 AM", "9:45 AM", "10:15 AM", "11:00 AM", "1:30 PM", "2:00 PM", "3:15 PM", "4:40 PM",
)  # fmt: skip

# How the agent opens, per channel. Inbound calls and chats are answered by the agent; inbound
# emails and texts start with the customer's message, which the agent then answers.
GREETINGS_CALL: tuple[str, ...] = (
    "Thanks for calling {company}, this is {agent}, a virtual assistant. How can I help you today?",
    "Hi, you've reached {company}. My name is {agent}. What can I do for you?",
    "Good morning, thank you for calling {company}. This is {agent}. How may I help?",
)
GREETINGS_CHAT: tuple[str, ...] = (
    "Hi! I'm {agent}, the {company} assistant. What can I help you with today?",
    "Welcome to {company}. I'm {agent}; how can I help?",
)
GREETINGS_REPLY: tuple[str, ...] = (
    "Hi {first}, thanks for reaching out to {company}. I can help with that.",
    "Hello {first}, this is {agent} from {company}. Thanks for your message.",
    "Hi {first}, thanks for getting in touch. Let me look into this for you.",
)
OUTBOUND_GREETINGS_CALL: tuple[str, ...] = (
    "Hi {first}, this is {agent}, an automated assistant calling from {company}.",
    "Hello {first}, it's {agent} from {company}. Do you have a minute?",
)
OUTBOUND_GREETINGS_WRITTEN: tuple[str, ...] = (
    "Hi {first}, this is {agent} from {company}.",
    "Hello {first}, {company} here.",
)
OUTBOUND_ACKS: tuple[str, ...] = ("Hi, yes. What is this about?", "Oh, hello. Go ahead.", "Yes, speaking.")

AGENT_FILLERS: tuple[str, ...] = (
    "One moment while I pull that up.",
    "Thanks for your patience.",
    "Got it.",
    "Let me check that for you.",
    "I understand.",
)
CALLER_FILLERS: tuple[str, ...] = ("Okay.", "Sure.", "Yes.", "Alright.", "Mm-hmm, go on.")
# What a customer says in the middle of a conversation the agent started.
OUTBOUND_CALLER_LINES: tuple[str, ...] = (
    "Oh, okay. Thanks for letting me know.",
    "What do I need to do?",
    "Can you send that to me in writing?",
    "Sorry, could you repeat that?",
    "That works for me.",
)
CALLER_THANKS: tuple[str, ...] = (
    "Great, thank you so much.",
    "Perfect, that's all I needed.",
    "Thanks for your help.",
    "Okay, thanks. Have a good day.",
)
AGENT_CLOSINGS: tuple[str, ...] = (
    "You're welcome. Have a great day!",
    "Glad I could help. Thanks for contacting {company}!",
    "Happy to help. Take care!",
)
TRANSFER_LINES: tuple[str, ...] = (
    "I'm going to connect you with our {team} team, who can take it from here.",
    "This needs a specialist, so I'm transferring you to the {team} team now.",
)
VOICEMAILS: tuple[str, ...] = (
    "Hi {first}, this is {agent} from {company} calling about {voicemail}. "
    "Please call us back at {callback}. Thank you!",
    "Hello {first}, {agent} from {company} here, following up on {voicemail}. "
    "You can reach us at {callback}. Have a good day.",
)

# The last turn of a conversation the system ended, per channel.
SYSTEM_TRANSFERRED: dict[str, str] = {
    "telephone": "Call transferred to {team} team",
    "webrtc": "Chat handed off to a human on the {team} team",
    "email": "Thread assigned to the {team} team",
    "text": "Conversation transferred to the {team} team",
}
SYSTEM_FAILED: dict[str, str] = {
    "telephone": "Call dropped",
    "webrtc": "Connection lost",
    "email": "Delivery failed: the recipient's mailbox is unavailable",
    "text": "Message delivery failed",
}

# Second sentence of a summary for outcomes other than a resolution.
SUMMARY_TRANSFERRED: tuple[str, ...] = (
    "The agent transferred the {medium} to the {team} team.",
    "The agent handed the {medium} to the {team} team for follow-up.",
)
SUMMARY_TRANSFERRED_FOLLOW_UPS: tuple[str, ...] = ("A specialist will follow up.",)
SUMMARY_FAILED: dict[str, str] = {
    "telephone": "The call dropped before the issue was resolved.",
    "webrtc": "The chat disconnected before the issue was resolved.",
    "email": "The agent's reply bounced, so the issue is still open.",
    "text": "The agent's reply could not be delivered.",
}
SUMMARY_VOICEMAIL: tuple[str, ...] = (
    "{caller} did not answer, so the agent left a voicemail about {voicemail}.",
    "{caller} was unavailable, so the agent left a message about {voicemail} asking for a call back.",
)

# How a summary says who started it: "{caller} {reached_out} about ...".
REACHED_OUT: dict[tuple[str, str], str] = {
    ("telephone", "inbound"): "called",
    ("telephone", "outbound"): "was called",
    ("webrtc", "inbound"): "chatted in",
    ("email", "inbound"): "emailed",
    ("email", "outbound"): "was emailed",
    ("text", "inbound"): "texted",
    ("text", "outbound"): "was texted",
}
MEDIUM: dict[str, str] = {
    "telephone": "call",
    "webrtc": "chat",
    "email": "email thread",
    "text": "conversation",
}
ANONYMOUS_CALLER: dict[str, str] = {
    "telephone": "The caller",
    "webrtc": "The visitor",
    "email": "The customer",
    "text": "The customer",
}
