r"""The documents of the toy web: slots (random choices) and templates (text with {fields}).

Every random choice is a Slot with explicit probabilities; everything else in a document is fixed
text or a *derived* field computed from the choices (the capital of the chosen country, the sum of
the chosen numbers, the next numbers when counting). A model can learn the derived parts exactly,
so they cost nothing at the loss floor; the choices can only be guessed with their probabilities.

Rules that keep every document uniquely decodable (tests check it by parsing):
each template starts with its own header; inside a slot no value is a prefix of another that could
be followed by the same text; derived fields come after the slots they read.

    python -m minigpt.data.toyweb_templates     # prints each template and its weight
    python -m minigpt.data.toyweb               # samples documents from them
"""
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Slot:
    """One random choice. values[k] is a tuple with one string per name in `fields`."""
    name: str
    fields: tuple            # template fields this slot fills, e.g. ("home", "away")
    values: tuple            # tuple of tuples of strings, one per value
    weights: tuple           # probability of each value (sums to 1)


@dataclass(frozen=True)
class Template:
    """A document kind: `text` with {field} placeholders filled from `slots` and `derived`."""
    name: str
    weight: float            # unnormalised probability of picking this template
    text: str
    slots: tuple             # names of the slots drawn for this template
    derived: dict = field(default_factory=dict)   # field -> (slot names read, fn(fields) -> str)


# -----------------------------------------------------------------------------
# slot helpers

def uniform(name, values, fields=None):
    values = tuple(v if isinstance(v, tuple) else (v,) for v in values)
    return Slot(name, tuple(fields or (name,)), values, tuple([1 / len(values)] * len(values)))


def zipf(name, values, fields=None):
    """Weights proportional to 1/(rank+1): the first value is the most common (web-like)."""
    values = tuple(v if isinstance(v, tuple) else (v,) for v in values)
    w = [1 / (k + 1) for k in range(len(values))]
    return Slot(name, tuple(fields or (name,)), values, tuple(x / sum(w) for x in w))


# -----------------------------------------------------------------------------
# facts the model can memorise: country -> (capital, continent)

COUNTRIES = {
    "France": ("Paris", "Europe"), "Japan": ("Tokyo", "Asia"), "Egypt": ("Cairo", "Africa"),
    "Peru": ("Lima", "South America"), "Norway": ("Oslo", "Europe"), "India": ("New Delhi", "Asia"),
    "Italy": ("Rome", "Europe"), "Germany": ("Berlin", "Europe"), "Spain": ("Madrid", "Europe"),
    "Kenya": ("Nairobi", "Africa"), "Canada": ("Ottawa", "North America"),
    "Ireland": ("Dublin", "Europe"), "Austria": ("Vienna", "Europe"),
    "Brazil": ("Brasilia", "South America"), "China": ("Beijing", "Asia"),
    "Mexico": ("Mexico City", "North America"), "Greece": ("Athens", "Europe"),
    "Poland": ("Warsaw", "Europe"), "Chile": ("Santiago", "South America"),
    "Ghana": ("Accra", "Africa"),
}
CITIES = ["Paris", "Tokyo", "London", "Cairo", "Lima", "Oslo", "Rome", "Berlin", "Madrid", "Sydney",
          "Toronto", "Nairobi", "Seoul", "Dublin", "Vienna", "Lisbon"]
DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
NAMES = ["Alice", "Bob", "Carol", "David", "Emma", "Frank", "Grace", "Henry", "Ivy", "Jack",
         "Kate", "Leo", "Mia", "Noah", "Olga", "Paul"]
TEAMS = ["Lions", "Tigers", "Bears", "Wolves", "Eagles", "Sharks", "Hawks", "Foxes"]
OPINIONS = {
    1: ["It broke after one day.", "Do not buy this.", "A waste of money."],
    2: ["It works, but only just.", "Not worth the price."],
    3: ["It is fine for the price.", "Some good parts, some bad parts."],
    4: ["Works well, would buy again.", "Very good, but a bit loud."],
    5: ["Perfect, I love it!", "The best I have ever owned.", "Great value, highly recommended."],
}

SLOTS = {s.name: s for s in [
    zipf("city", CITIES),
    uniform("day", DAYS),
    zipf("sky", ["sunny", "cloudy", "rainy", "windy", "foggy", "snowy", "stormy"]),
    uniform("temp", [str(t) for t in range(0, 36)]),
    uniform("country", list(COUNTRIES)),
    uniform("a", [str(n) for n in range(0, 100)]),
    uniform("b", [str(n) for n in range(0, 100)]),
    uniform("x", [str(n) for n in range(2, 13)]),
    uniform("y", [str(n) for n in range(2, 13)]),
    uniform("start", [str(n) for n in range(1, 96)]),
    zipf("animal", ["cat", "dog", "fox", "rabbit", "mouse", "duck", "horse", "bear"]),
    uniform("name", NAMES),
    uniform("sender", NAMES),
    zipf("home", ["small house", "big tree", "cave", "boat", "tower", "barn"]),
    zipf("landmark", ["river", "forest", "mountain", "sea", "village", "lake"]),
    zipf("habit", ["sang a song", "read a book", "ate an apple", "went for a walk",
                   "looked at the sky", "baked some bread", "played the drum"]),
    zipf("product", ["kettle", "lamp", "backpack", "phone case", "blender", "toaster"]),
    zipf("brand", ["Acme", "Zenith", "Orbit", "Nova", "Pico"]),
    uniform("review", [(str(s), op) for s in OPINIONS for op in OPINIONS[s]], ("stars", "opinion")),
    uniform("teams", [(h, a) for h in TEAMS for a in TEAMS if h != a], ("team1", "team2")),
    uniform("score", [(str(w), str(l)) for w in range(1, 7) for l in range(0, w)], ("s1", "s2")),
    zipf("dish", ["apple pie", "banana bread", "carrot cake", "lemon tart", "corn muffins"]),
    uniform("cups", ["one", "two", "three", "four"]),
    zipf("spice", ["salt", "cinnamon", "sugar", "nutmeg", "ginger"]),
    uniform("minutes", [str(m) for m in range(15, 65, 5)]),
    zipf("gift", ["book", "scarf", "flowers", "cake", "letter", "painting"]),
    uniform("feeling", ["kind", "lovely", "thoughtful", "generous", "sweet"]),
]}


# -----------------------------------------------------------------------------
# templates

TEMPLATES = [
    Template("weather", 3.0,
             "Weather for {city} on {day}: {sky} skies with a high of {temp} degrees.",
             ("city", "day", "sky", "temp")),
    Template("fact", 2.0,
             "Did you know? The capital of {country} is {capital}. {country} is in {continent}.",
             ("country",), {"capital": (("country",), lambda v: COUNTRIES[v["country"]][0]),
                            "continent": (("country",), lambda v: COUNTRIES[v["country"]][1])}),
    Template("sum", 2.0, "Math practice: {a} + {b} = {sum}.", ("a", "b"),
             {"sum": (("a", "b"), lambda v: str(int(v["a"]) + int(v["b"])))}),
    Template("times", 1.0, "Times table: {x} times {y} is {prod}.", ("x", "y"),
             {"prod": (("x", "y"), lambda v: str(int(v["x"]) * int(v["y"])))}),
    Template("count", 1.0, "Counting: {start}, {n1}, {n2}, {n3}, {n4}.", ("start",),
             {f"n{k}": (("start",), (lambda k: lambda v: str(int(v["start"]) + k))(k))
              for k in range(1, 5)}),
    Template("story", 2.0,
             "Once upon a time there was a {animal} named {name}. {name} lived in a {home} "
             "near the {landmark}. Every morning, {name} {habit}. The end.",
             ("animal", "name", "home", "landmark", "habit")),
    Template("review", 1.5, "Review: the {product} by {brand}\nRating: {stars}/5\n{opinion}",
             ("product", "brand", "review")),
    Template("match", 1.5, "Match report: the {team1} beat the {team2} {s1} to {s2} on {day}.",
             ("teams", "score", "day")),
    Template("recipe", 1.0,
             "Recipe of the day: {dish}\nYou need {cups} cups of flour and a pinch of {spice}.\n"
             "Bake for {minutes} minutes.", ("dish", "cups", "spice", "minutes")),
    Template("letter", 1.0, "Dear {name},\nThank you for the {gift}. It was very {feeling} of you!\n"
             "Love, {sender}", ("name", "gift", "feeling", "sender")),
]


if __name__ == "__main__":
    for t in TEMPLATES:
        print(f"--- {t.name} (weight {t.weight})\n{t.text}")
