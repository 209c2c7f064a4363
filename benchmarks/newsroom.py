"""A newsroom for the filter tests and the filter benchmark: short articles from five sources, by
several authors, dated across 2024 (one in 25 undated), made deterministically."""

from __future__ import annotations

import random

from qa.ingest import Article

SOURCES = ("Harbour Gazette", "Valley Times", "City Ledger", "Northern Post", "Evening Courier")
AUTHORS = ("Ana Silva", "Ben Okafor", "Chloe Martin", "Dev Patel", "Eva Novak", "Femi Adeyemi", "Gus Larsen")
PLACES = ("Kelby", "Arnfield", "Marrow", "Tessel", "Odessa Bay", "Brightwater", "Lunden", "Corvale", "Pemberly",
          "Ashgrove", "Hollin", "Dunmore")
TOPICS = ("harbour", "school", "bridge", "market", "railway station", "hospital wing", "sports hall", "museum",
          "water plant", "tram line")
VERBS = ("approved", "rejected", "postponed", "debated", "announced")
# One article no question about costs comes near: the selective filter must still find it.
NEEDLE = Article("needle", "Beekeepers Count Their Hives",
                 "Beekeepers in the hills counted four hundred hives this spring. Honey from the clover "
                 "meadows sold out at the weekend fair. The oldest keeper has tended bees for sixty years.",
                 "Ina Roth", "2024-06-15", "Valley Times")


# Words for each story's own details, so that no two generated stories read as copies of each other
# (the write path stores a light edit of a stored article as a republished copy).
DETAILS = ("volunteers", "lorries", "ferries", "pensioners", "students", "farmers", "cyclists", "nurses", "anglers",
           "bakers", "drivers", "tenants", "teachers", "shopkeepers", "engineers", "fishermen", "walkers", "riders",
           "orchards", "quarries", "meadows", "canals", "warehouses", "chapels", "allotments", "piers", "tunnels",
           "ramps", "lanterns", "benches", "fountains", "kiosks", "gardens", "car parks", "playgrounds", "mills",
           "complained", "praised", "questioned", "welcomed", "doubted", "measured", "surveyed", "petitioned",
           "cleared", "painted", "repaired", "counted", "mapped", "planted", "fenced", "lit", "drained", "widened")


MORE = ("A second vote is planned for {month}.", "The mayor of {place} called it a turning point.",
        "Opponents of the {topic} collected {votes} signatures.", "Work could begin within {cost} months.",
        "Local shops in {place} expect more visitors.", "The {topic} has been discussed since {year}.")


def articles(n: int = 300, extra: int = 0) -> list[Article]:
    """``n`` short articles (and :data:`NEEDLE`) of 3 + ``extra`` sentences: each source writes every
    fifth, one in 25 is undated."""
    rng = random.Random(15)
    made = [NEEDLE]
    for i in range(n):
        place, topic, verb = rng.choice(PLACES), rng.choice(TOPICS), rng.choice(VERBS)
        cost, votes = rng.randint(2, 90), rng.randint(3, 40)
        date = None if i % 25 == 7 else f"2024-{1 + i % 12:02d}-{1 + (i * 7) % 28:02d}"
        text = (f"The {place} council {verb} the new {topic} plan after a long meeting. The project would cost "
                f"{cost} million euros, officials said. {votes} residents spoke at the hearing about the {topic}.")
        for _ in range(2):
            words = rng.sample(DETAILS, 8)
            text += (f" Earlier, {words[0]} and {words[1]} {words[6]} the {words[2]} near the {words[3]}, while "
                     f"{words[4]} {words[7]} the {words[5]}.")
        for template in rng.sample(MORE, extra):
            text += " " + template.format(month=rng.choice(("May", "June", "October")), place=place, topic=topic,
                                          votes=votes, cost=cost, year=rng.randint(1990, 2020))
        made.append(Article(f"story-{i}", f"{place} {topic.title()} Plan {verb.title()} ({i})", text,
                            AUTHORS[i % len(AUTHORS)], date, SOURCES[i % len(SOURCES)]))
    return made
