"""Small built-in vocabularies, and the composers that turn them into post text.

Everything here is invented so that no third-party data ships with the demo: the town (Riverton),
its teams, shops and the disputed "Clearwater dam deal" are fictional, and every link domain uses
the reserved ``.example`` top-level domain, so no generated link points at a real site.
"""
from __future__ import annotations

import random
import string
from dataclasses import dataclass
from functools import lru_cache


@dataclass(frozen=True)
class Topic:
    templates: tuple[str, ...]
    slots: dict[str, tuple[str, ...]]
    hashtags: tuple[str, ...]
    domains: tuple[str, ...]


_DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_REACTIONS = ("Unreal.", "Typical.", "Ugh.", "Love it.", "Not again.", "Can't wait.", "Honestly.", "")

TOPICS: dict[str, Topic] = {
    "sports": Topic(
        templates=(
            "What a {adj} game from the {team} tonight!",
            "{team} {result} again. {reaction}",
            "Anyone going to the {team} match on {day}?",
            "That {play} in the second half was {adj}.",
            "Coach needs to rethink the lineup after that {setback}.",
            "Season tickets for the {team} finally arrived. {reaction}",
        ),
        slots={
            "adj": ("great", "brilliant", "frustrating", "wild", "nervy", "scrappy", "unbelievable"),
            "team": ("Riverton Rovers", "Lakeside Hawks", "Northgate United", "Harbor City Kings", "Eastfield Comets"),
            "result": ("lost", "won", "drew", "scraped a win", "blew a two-goal lead"),
            "play": ("save", "goal", "tackle", "free kick", "comeback"),
            "setback": ("loss", "draw", "collapse", "scare"),
            "day": _DAYS,
            "reaction": _REACTIONS,
        },
        hashtags=("GoRovers", "Hawks", "matchday", "RivertonRovers", "NorthgateUtd", "football", "sports"),
        domains=(
            "sportsdesk-daily.example",
            "rovers-fan-zone.example",
            "matchreport.example",
            "scoreline-live.example",
        ),
    ),
    "food": Topic(
        templates=(
            "Just tried the {dish} at {place}. {verdict}",
            "Making {dish} tonight, wish me luck.",
            "Is {place} still doing the {dish} special? {reaction}",
            "Sunday plan: {dish}, coffee, no phone.",
            "Best {dish} in {town}? Asking for a friend.",
        ),
        slots={
            "dish": (
                "ramen",
                "tacos",
                "banana bread",
                "lasagna",
                "pho",
                "sourdough",
                "fish and chips",
                "veggie curry",
                "pancakes",
                "burrito bowl",
            ),
            "place": (
                "Luigi's",
                "the market hall",
                "Blue Door Cafe",
                "Noodle Bar 9",
                "the food trucks on Main",
                "Mama Rosa's",
            ),
            "verdict": (
                "Worth it.",
                "10/10 would go again.",
                "Honestly overrated.",
                "Decent but pricey.",
                "New favourite!",
            ),
            "town": ("Riverton", "Lakeside", "Northgate", "town"),
            "reaction": _REACTIONS,
        },
        hashtags=("foodie", "homecooking", "brunch", "RivertonEats", "baking", "dinner"),
        domains=(
            "kitchen-notes.example",
            "eat-local-guide.example",
            "recipebox.example",
            "tastyweekly.example",
            "brunchmap.example",
        ),
    ),
    "weather": Topic(
        templates=(
            "{weather} in {town} today. {feeling}",
            "Forecast says {forecast} for the weekend. {feeling}",
            "Why is it {weather_adj} already?!",
            "Beautiful {time_of_day} sky over {town} right now.",
        ),
        slots={
            "weather": (
                "Rain again",
                "Sunshine",
                "Fog everywhere",
                "Wind howling",
                "Hail",
                "Snow flurries",
                "Grey and humid",
            ),
            "forecast": ("storms", "a warm spell", "more rain", "clear skies", "a cold snap"),
            "feeling": (
                "Staying in.",
                "Perfect for a walk.",
                "My poor garden.",
                "Umbrella season.",
                "Not complaining.",
            ),
            "weather_adj": ("so cold", "so warm", "this windy", "this wet"),
            "time_of_day": ("morning", "evening", "sunset"),
            "town": ("Riverton", "Lakeside", "Northgate", "the valley"),
        },
        hashtags=("weather", "RivertonWeather", "rain", "spring", "forecast"),
        domains=("weather-now.example", "localforecast.example", "skywatch-blog.example"),
    ),
    "local": Topic(
        templates=(
            "Road works on {street} again. {reaction}",
            "The {venue} is hosting a {event_kind} on {day}. Who's in?",
            "Shoutout to the volunteers cleaning up {park} this morning.",
            "Traffic on {street} is a nightmare right now.",
            "New {shop} opening on {street}, finally.",
            "Council meeting on {day} about {issue}. {reaction}",
        ),
        slots={
            "street": ("Main St", "Harbor Road", "Elm Avenue", "Station Road", "5th Street", "Mill Lane"),
            "venue": ("library", "community centre", "old theatre", "town hall"),
            "event_kind": ("book swap", "jazz night", "craft fair", "quiz night", "farmers market"),
            "park": ("Riverside Park", "Oak Green", "the waterfront"),
            "shop": ("bakery", "bike shop", "bookstore", "coffee place"),
            "issue": ("parking", "the new bus routes", "school funding", "bin collections", "the Clearwater dam"),
            "day": _DAYS,
            "reaction": _REACTIONS,
        },
        hashtags=("Riverton", "RivertonNews", "local", "community", "shoplocal"),
        domains=(
            "riverton-gazette.example",
            "localwire.example",
            "townsquare-news.example",
            "cityhall-updates.example",
            "neighbourhood-notes.example",
        ),
    ),
    "tech": Topic(
        templates=(
            "Anyone else having issues with {gadget} after the update?",
            "Finally switched to {thing}. {verdict}",
            "Spent all {day} fixing {problem}. {reaction}",
            "Hot take: {take}",
            "Reading about {subject} this morning, fascinating stuff.",
        ),
        slots={
            "gadget": ("my phone", "the router", "my laptop", "the smart speaker", "my earbuds"),
            "thing": ("a mechanical keyboard", "dark mode", "a standing desk", "Linux", "a password manager"),
            "verdict": ("No regrets.", "Should have done it years ago.", "Jury's still out.", "Mixed feelings."),
            "problem": ("a printer driver", "my home wifi", "a flaky test", "a spreadsheet macro"),
            "take": (
                "tabs beat spaces.",
                "most apps don't need an account.",
                "battery life beats cameras.",
                "nobody reads the terms.",
            ),
            "subject": ("home batteries", "open source maintainers", "quantum computing", "e-bikes"),
            "day": _DAYS,
            "reaction": _REACTIONS,
        },
        hashtags=("tech", "gadgets", "coding", "opensource", "AI", "productivity"),
        domains=(
            "techbrief.example",
            "gadget-review-hub.example",
            "devnotes.example",
            "bytesized-news.example",
            "circuit-weekly.example",
        ),
    ),
    "life": Topic(
        templates=(
            "Morning coffee and {activity}. {feeling}",
            "Long {day}. {reaction}",
            "My {pet} just {pet_action}.",
            "Finally finished {project}!",
        ),
        slots={
            "activity": ("a crossword", "a long walk", "some reading", "emails", "yoga"),
            "feeling": ("Bliss.", "Needed that.", "Ready for the day.", "Could get used to this."),
            "pet": ("dog", "cat", "parrot", "rabbit"),
            "pet_action": (
                "stole my sandwich",
                "learned to open the door",
                "fell asleep on my keyboard",
                "barked at the postman again",
            ),
            "project": ("a great novel", "a 1000 piece puzzle", "my first 10k run", "the garden fence"),
            "day": _DAYS,
            "reaction": _REACTIONS,
        },
        hashtags=("mondaymotivation", "dogsoftwitter", "catsoftwitter", "weekend", "coffee"),
        domains=("dailyjoys.example", "petpics.example", "slowliving-blog.example"),
    ),
}

# Ordinary residents sometimes talk about the dam too, so the campaign's topic alone does not give
# the operation away; its timing and repetition should.
ORGANIC_DAM_POSTS = (
    "Went to the Clearwater dam info session. Still not sure what to think.",
    "Lots of noise about the dam deal online. Anyone have actual numbers?",
    "My neighbour is convinced the dam will flood the valley. I'm not.",
    "Read both sides on the Clearwater project. It's complicated.",
)

NARRATIVE_TEMPLATES = (
    "{insiders} {hid} the real cost of the {project}. {call}",
    "Why won't the council answer questions about the {project}? {call}",
    "{media} is silent on the {project}. We are not. {call}",
    "The {project} was signed behind closed doors. {call}",
    "Follow the money behind the {project}. {call}",
    "Riverton families will pay for the {project} for decades. {call}",
)
EVENT_TEMPLATES = (  # after the event (the council vote) the narrative turns to the vote itself
    "The council vote on the {project} was rigged. {call}",
    "{insiders} pushed the {project} vote through overnight. {call}",
)
NARRATIVE_SLOTS: dict[str, tuple[str, ...]] = {
    "insiders": ("Officials", "Council insiders", "The mayor's office", "City hall"),
    "hid": ("hid", "buried", "covered up", "kept quiet about"),
    "project": ("Clearwater dam deal", "dam contract", "Clearwater project", "Clearwater deal"),
    "media": ("The local press", "The Gazette", "Mainstream media", "The news"),
    "call": (
        "Share before they delete this!",
        "Wake up, Riverton.",
        "Read it yourself.",
        "Don't let them bury this.",
        "Spread the word.",
        "Ask questions.",
    ),
}
ARTICLE_SLUGS = (
    "council-hid-dam-costs",
    "who-profits-from-clearwater",
    "dam-contract-leak",
    "riverton-families-will-pay",
    "the-vote-was-rigged",
    "what-the-gazette-wont-print",
)
QUOTE_COMMENTS = (
    "This needs to be seen.",
    "Exactly what I've been saying.",
    "Read this.",
    "They can't hide this forever.",
    "100% this.",
    "Everyone in Riverton should read this.",
)
REPLIES = (
    "Totally agree!",
    "Haha so true",
    "Where was this?",
    "Same here.",
    "Good point.",
    "No way!",
    "Thanks for sharing.",
    "Hard disagree, sorry.",
)

FIRST_NAMES = (
    "Maria",
    "James",
    "Aisha",
    "Tom",
    "Priya",
    "Daniel",
    "Sofia",
    "Kevin",
    "Leah",
    "Marcus",
    "Hannah",
    "Omar",
    "Grace",
    "Luis",
    "Emma",
    "Noah",
    "Chloe",
    "Ben",
    "Fatima",
    "Ryan",
    "Olivia",
    "Sam",
    "Nina",
    "Jake",
    "Zoe",
    "Carlos",
    "Ella",
    "Adam",
    "Mia",
    "Ethan",
    "Lucy",
    "Raj",
    "Ava",
    "Leo",
    "Ruth",
    "Owen",
    "Ivy",
    "Hugo",
    "Jade",
    "Victor",
)
LAST_NAMES = (
    "Smith",
    "Garcia",
    "Khan",
    "Nguyen",
    "Brown",
    "Patel",
    "Miller",
    "Lopez",
    "Wilson",
    "Chen",
    "Taylor",
    "Okafor",
    "Moore",
    "Silva",
    "Clark",
    "Evans",
    "Walker",
    "Young",
    "King",
    "Hill",
    "Scott",
    "Green",
    "Baker",
    "Reed",
    "Cook",
    "Ward",
    "Price",
    "Bell",
    "Gray",
    "Hughes",
)
LOCATIONS = (
    "Riverton",
    "Riverton, USA",
    "Lakeside",
    "Northgate",
    "Harbor City",
    "the valley",
    "Earth",
    "somewhere with coffee",
    "",
    "",
    "",
)
BIO_BITS = (
    "Coffee first.",
    "Dad of two.",
    "Mum of three.",
    "Runner.",
    "Amateur cook.",
    "Rovers fan.",
    "Software tester.",
    "Nurse.",
    "Teacher.",
    "Views my own.",
    "Gardener.",
    "Dog person.",
    "Weather nerd.",
    "Tech enthusiast.",
    "Bookworm.",
    "Riverton born and raised.",
)
OPERATION_LOCATIONS = ("Riverton", "USA", "Riverton, proud and free", "")
OPERATION_BIOS = (
    "Patriot. Truth seeker.",
    "Proud Rivertonian. Asking the questions they won't.",
    "Mother. Patriot. Awake.",
    "Follow for the truth.",
    "Just a citizen who reads the fine print.",
)
SEED_HANDLES = (
    "RivertonPatriot",
    "ClearwaterEyes",
    "TruthOnTheDam",
    "FreedomWireNow",
    "ValleyWatchdog",
    "RiverRealTalk",
)
ORGANIC_CLIENTS = (
    "Twitter for iPhone",
    "Twitter for iPhone",
    "Twitter for Android",
    "Twitter for Android",
    "Twitter Web App",
    "Twitter for iPad",
)
OPERATION_CLIENTS = ("Twitter Web App", "Twitter Web App", "TweetDeck")


@lru_cache(maxsize=None)
def template_fields(template: str) -> tuple[str, ...]:
    return tuple(name for _, name, _, _ in string.Formatter().parse(template) if name)


def fill(rng: random.Random, template: str, slots: dict[str, tuple[str, ...]]) -> tuple[str, dict]:
    """The template with each of its slots drawn; returns the choices too so a copy can vary them."""
    choices = {name: rng.choice(slots[name]) for name in template_fields(template)}
    return template.format(**choices).strip(), choices


def swap(rng: random.Random, template: str, choices: dict, slots: dict[str, tuple[str, ...]]) -> str:
    """A near-duplicate: the same template with one or two of its words redrawn."""
    changed = dict(choices)
    names = template_fields(template)
    for name in rng.sample(names, k=min(len(names), rng.randint(1, 2))):
        changed[name] = rng.choice(slots[name])
    return template.format(**changed).strip()


def compose(body: str, *, mentions: list[str] = (), urls: list[str] = (), hashtags: list[str] = ()) -> str:
    """Body, then mentions, link and hashtags, the order most posts put them in."""
    parts = [body, *(f"@{handle}" for handle in mentions), *urls, *(f"#{tag}" for tag in hashtags)]
    return " ".join(part for part in parts if part)
