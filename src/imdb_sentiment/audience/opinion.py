"""Does a sentence judge something? A gate for the aspect terms that are mostly used to tell the plot.

"His character goes back to the village", "the story is about two brothers", "X, played by Y, ..."
mention an aspect without saying anything about it: on the validation dev sample
(``bench/aspects/dev-labels.csv``) such sentences were most of the finder's false aspects, the
``characters`` aspect above all. A mention by one of :data:`WEAK_TERMS` therefore counts only in a
sentence that also holds an evaluative word (:data:`EVALUATIVE`: adjectives, adverbs and verbs of
judgement, a compact hand-made list); strong terms ("the acting", "cinematography", "plot holes",
"soundtrack") count wherever they are.
"""

from __future__ import annotations

import re

#: Terms (as :func:`~imdb_sentiment.audience.aspects.find_aspects` reports them, lower-cased) that need
#: an evaluative word in their sentence to count.
WEAK_TERMS: frozenset[str] = frozenset(
    (
        *["character", "characters", "villain", "villains", "antagonist", "antagonists", "protagonist", "protagonists"],
        *[
            "hero",
            "heroine",
            "story",
            "stories",
            "writing",
            "director",
            "directors",
            "directing",
            "actors",
            "actor",
            "actress",
        ],
        *["role", "roles", "cast", "portrayed", "portrays", "portray"],
        "the hero",
        "the story",
    )
)

# fmt: off
_WORDS = (
    "good great excellent superb brilliant wonderful fantastic amazing outstanding terrific fine solid decent "
    "strong powerful compelling convincing believable credible realistic natural genuine authentic nuanced "
    "subtle memorable likable likeable lovable charming engaging interesting intriguing fascinating "
    "complex deep rich well-developed developed fleshed three-dimensional sympathetic appealing beautiful "
    "perfect perfectly flawless masterful impressive stunning gorgeous clever smart intelligent witty funny "
    "moving touching heartfelt original fresh creative unique enjoyable entertaining fun best better "
    "favorite favourite loved love loves adore adored enjoyed liked like admire admired praise "
    "bad poor weak awful terrible horrible dreadful atrocious abysmal pathetic lame dull boring bland flat "
    "wooden stiff unconvincing unbelievable implausible ridiculous absurd silly stupid dumb idiotic "
    "annoying irritating obnoxious unlikable unlikeable unsympathetic shallow thin one-dimensional "
    "two-dimensional cardboard cliched clichéd clichéd stereotypical stereotyped predictable generic forgettable "
    "mediocre average uneven inconsistent confusing incoherent messy sloppy lazy cheap amateurish "
    "worst worse hated hate hates disliked dislike wasted waste underdeveloped undeveloped overrated underrated "
    "overacting overacted over-the-top hammy laughable cringe cringeworthy embarrassing painful "
    "sharp sharply scary creepy menacing chilling craft skilled talented gifted competent incompetent capable "
    "well badly poorly nicely beautifully brilliantly superbly terribly horribly "
    "excellently wonderfully convincingly believably effectively "
    "works worked fails failed failing succeeds succeeded shines shone nails nailed carries carried "
    "deserves deserved steals stole ruins ruined saves saved lacks lacking lacked needed"
)
# fmt: on
#: Evaluative words (whole words, case-insensitive).
EVALUATIVE = re.compile(
    r"\b(?:" + "|".join(sorted(map(re.escape, set(_WORDS.split())), key=len, reverse=True)) + r")\b", re.I
)


#: The starts of the ending's phrases that as often only say *when* something happens ("towards the end
#: of the film, she...", "in the last scene the killer turns up"); the finder's ending pattern is built on
#: them, and a term that starts so is weak like :data:`WEAK_TERMS`. "The ending", "the finale", "the
#: climax" stay strong.
AT_THE_END = r"(?:at|towards?|near|by) the (?:very )?end"
FINAL = r"(?:final|last) "
WEAK_PHRASES = re.compile(f"{AT_THE_END}|{FINAL}")


def needs_judgement(term: str) -> bool:
    """Whether a mention by ``term`` counts only in a sentence that judges something."""
    return term in WEAK_TERMS or WEAK_PHRASES.match(term) is not None


def judges(sentence: str) -> bool:
    """Whether ``sentence`` holds an evaluative word."""
    return EVALUATIVE.search(sentence) is not None
