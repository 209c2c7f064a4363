"""The header block: bylines, dates and publications from the lines before the body."""

import pytest

from qa.ingest import from_bytes


def test_byline_and_date_from_plain_text():
    raw = ("Storm Closes Harbour\n\nBy Jane Doe | The Coastal Times\n\nJune 5, 2022\n\n"
           "A storm closed the harbour on Sunday, stranding dozens of fishing boats until the wind dropped.")
    a = from_bytes(raw.encode(), "storm.txt")
    assert (a.title, a.author, a.date) == ("Storm Closes Harbour", "Jane Doe", "2022-06-05")


@pytest.mark.parametrize("opening, is_body", [
    ("By 2030, the country plans to double its wind and solar power output across all regions.", True),
    ("By the end of the week, the council will decide on the bridge and the new school buildings.", True),
    ("By Monday, officials had left.", False),  # short enough to pass for a header line
    ("By Tuesday the storm had passed.", False),
])
def test_a_sentence_opening_with_by_is_not_a_byline(opening, is_body):
    raw = f"Wind Plan\n\n{opening}\n\nThe plan was announced on Tuesday by the energy minister in the capital city."
    a = from_bytes(raw.encode(), "wind.txt")
    assert (a.author, a.source) == (None, None)
    assert (a.text.index(opening) >= a.body_start) == is_body


@pytest.mark.parametrize("line, author", [
    ("By the Associated Press", "the Associated Press"),
    ("By Jane Doe, staff writer.", "Jane Doe"),
    ("By \u674e\u660e, \u65b0\u534e\u793e", "\u674e\u660e"),  # a script without capitals
])
def test_bylines_that_are_bylines(line, author):
    raw = f"Wind Plan\n\n{line}\n\nThe plan was announced on Tuesday by the energy minister in the capital city."
    assert from_bytes(raw.encode(), "wind.txt").author == author


BODY = "The council met on Monday and agreed the budget after a long debate about street cleaning."


@pytest.mark.parametrize("header, expected", [
    ("Harbour Times, 2025-06-02\n\nCOUNCIL APPROVES BUDGET\n\nBy Maria Okafor, City Desk\nPublished 2 June 2025, 07:45",
     ("COUNCIL APPROVES BUDGET", "Maria Okafor", "2025-06-02", "Harbour Times")),
    ("The Valley Courier - March 3, 2024\n\nNew pill halves headache days\n\nBy Sam Achterberg | Health Correspondent",
     ("New pill halves headache days", "Sam Achterberg", "2024-03-03", "The Valley Courier")),
    ("Lakeside Ledger\n\nCouncil backs water rate rise\n\nBy Dana Whitfield, Municipal Affairs\n"
     "Posted Wednesday, April 16, 2025 at 10:05 PM",
     ("Council backs water rate rise", "Dana Whitfield", "2025-04-16", "Lakeside Ledger")),
    ("Health | Research\n\nVaccine cuts severe illness by 81%\n\nKirsten Vale, Science Desk\n"
     "Thursday 12 December 2024 16:20 GMT",
     ("Vaccine cuts severe illness by 81%", "Kirsten Vale", "2024-12-12", None)),
    ("Updated 3 June 2025 17:02\n\nTram extension delayed by 18 months\n\n"
     "By Sophie Lindgren - Metro Desk, Carlingford Evening News",
     ("Tram extension delayed by 18 months", "Sophie Lindgren", "2025-06-03", "Carlingford Evening News")),
    ("Mackerel talks collapse\n\nUpdated 22 Nov 2024 18:47 CET\nWorld Desk",
     ("Mackerel talks collapse", None, "2024-11-22", None)),
    ("Water firm fined over sewage spills\n\nWendleford Courier, 12.03.2025\nCourt reporter",
     ("Water firm fined over sewage spills", None, "2025-03-12", "Wendleford Courier")),
    ("UPDATE 2-Government approves wind farm\n\nBy Katrin Solberg",
     ("Government approves wind farm", "Katrin Solberg", None, None)),
])
def test_header_lines_are_read_for_what_they_are(header, expected):
    a = from_bytes(f"{header}\n\n{BODY}".encode(), "story.txt")
    assert (a.title, a.author, a.date, a.source) == expected
    assert a.text[a.body_start:].startswith("The council met")
