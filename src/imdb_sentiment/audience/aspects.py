"""What a review talks about, sentence by sentence: acting, story, direction, music, the ending...

A review is cut into sentences (:func:`split_sentences`, character spans into the text as written, so
``<br />`` tags and HTML entities stay where they are), and precompiled regular expressions find the terms
of every aspect (:func:`find_aspects`). The vocabulary favours precision over recall: a term that is
often something else ("score 10/10", "in the end", "side effects") is either left out or excluded in
context, and each exclusion says why where it is written. Actor and director names cannot be known, so a
sentence that only names someone is not found.
"""

from __future__ import annotations

import re
import string
from bisect import bisect_right
from collections.abc import Iterator, Sequence

import pandas as pd

from imdb_sentiment.audience.opinion import AT_THE_END, FINAL, judges, needs_judgement
from imdb_sentiment.models.inputs import check_texts

#: The aspects, in display order; these keys are stable (they appear in saved tables).
ASPECTS: tuple[str, ...] = (
    "acting", "story", "direction", "characters", "music", "visuals", "pacing", "humour", "ending",
)  # fmt: skip
#: Display names of :data:`ASPECTS`.
ASPECT_LABELS: dict[str, str] = {
    "acting": "Acting", "story": "Story & writing", "direction": "Direction", "characters": "Characters",
    "music": "Music & sound", "visuals": "Visuals", "pacing": "Pacing & length", "humour": "Humour",
    "ending": "Ending",
}  # fmt: skip
#: Columns of :func:`find_aspects`'s table.
COLUMNS = ("review", "sentence", "start", "end", "aspect", "term", "term_start")

# --- Sentences ---------------------------------------------------------------------------------------


#: Abbreviations after which a full stop never ends a sentence (a title before a name, "e.g.", "vs.").
_TITLES = frozenset(
    re.findall(r"\S+", "mr mrs ms dr prof st mt gen col lt sgt capt rev fr sr jr vs v e.g i.e cf ca no")
)
#: Abbreviations that also end sentences ("...guns, cars, etc. The plot"): a break only before a capital.
_SOMETIMES = frozenset(re.findall(r"\S+", "etc inc ltd co min mins hr hrs sec secs pt pts oz lb lbs approx vol"))
#: A hard break (IMDb's ``<br />`` in any spelling, or newlines), or a run of terminators with its closing
#: quotes or brackets, then a space, a tag, the end, or (a typing slip, "end.The") a capitalised word.
#: Every alternative starts with one literal character, which lets the engine skip the rest of the text fast.
#: A run of terminators is entered at its first character only (from each one, "!!!...!x" is quadratic).
_BR = r"<\s*[bB][rR]\s*/?\s*>"
_BREAKS = rf"(?:\s*(?:{_BR}|[\r\n]))*"
_STOP_TAIL = r"[.!?\u2026\x85]*[\"'\u201d\u2019)\]]*(?:\s+|(?=<\s*[bB][rR])|$|(?=[A-Z][a-z]|I[\s'\u2019]))"
_STOPS = [rf"{re.escape(c)}(?<![.!?\u2026\x85]{re.escape(c)}){_STOP_TAIL}" for c in ".!?\u2026\x85"]
_BOUNDARY = re.compile("|".join([_BR + _BREAKS, r"\r" + _BREAKS, r"\n" + _BREAKS, *_STOPS]))
_CLOSING = "\"'\u201d\u2019)]"
#: Whitespace, but for U+0085: Python counts it as a line break, IMDb's text uses it as an ellipsis ("wait\x85").
_SPACES = "".join(c for c in map(chr, range(0x3001)) if c.isspace() and c != "\x85")
_HAS_WORD = re.compile(r"[^\W_]")


def _sentence_end(text: str, match: re.Match[str], sentence_start: int) -> int | None:
    """Where the sentence ends if this boundary match ends it, from the word before and the character after."""
    at, token = match.start(), match.group()
    if token[0] in "<\r\n":
        return at
    body = token.rstrip(_SPACES)
    stop = body.rstrip(_CLOSING)
    end, after = at + len(body), text[match.end() : match.end() + 1]
    if not after:
        return end
    if len(body) == len(token) and after != "<":  # "end.The": between words only, not "U.S.Army" or "7.Five"
        return end if body == stop and text[at - 2 : at].isalpha() else None
    if after.islower() and (body != stop or stop.startswith("..") or stop[0] in "\u2026\x85"):
        return None  # '"Help!" he cried' or "it was... okay": the sentence goes on
    if stop != ".":
        return end
    before = text[max(sentence_start, at - 20) : at]  # the word before the full stop, at most 20 characters
    word = before[max(before.rfind(" "), before.rfind("("), before.rfind('"')) + 1 :].lower()
    if word in _TITLES or (len(word) == 1 and word.isalpha() and word != "i"):
        return None  # "Mr. Smith", "J. R. R. Tolkien"; a lone "I." is the pronoun ending a sentence
    if word in _SOMETIMES or ("." in word and word.replace(".", "").isalpha()):
        return end if after.isupper() else None  # "etc.", "U.S.", "p.m.": the end only before a capital
    # "1. The first point": a list number opening the sentence is not a sentence.
    return None if at - sentence_start <= 3 and text[sentence_start:at].lstrip("(").isdigit() else end


def split_sentences(text: str) -> list[tuple[int, int]]:
    """Cut one review into sentences.

    Breaks at IMDb's ``<br />`` tags, newlines and sentence-final ``.``, ``!``, ``?``, ``...`` (closing
    quotes and brackets stay with their sentence), but not after "Mr." / "Dr." / "e.g." / initials, not
    at an ellipsis or a quoted exclamation that the sentence continues after in lower case, and not inside
    "7.5/10". Pure regular expressions: no model to download.

    Args:
        text: One review, as written (markup included).

    Returns:
        ``(start, end)`` character spans into ``text``, in order, without surrounding whitespace or tags;
        a piece with no letter or digit (a lone "..." or "!!!") is not a sentence and is left out.
    """
    spans: list[tuple[int, int]] = []
    start = 0
    for match in (*_BOUNDARY.finditer(text), None):
        end = len(text) if match is None else _sentence_end(text, match, start)
        if end is None:
            continue
        piece = text[start:end]
        stripped = piece.strip(_SPACES)
        if stripped and _HAS_WORD.search(stripped):
            left = start + len(piece) - len(piece.lstrip(_SPACES))
            spans.append((left, left + len(stripped)))
        start = len(text) if match is None else match.end()
    return spans


# --- Vocabulary --------------------------------------------------------------------------------------


def _any(words: str) -> str:
    """An alternation of the whitespace-separated regular expressions in ``words`` ("_" for a space)."""
    return "(?:" + "|".join(word.replace("_", " ") for word in words.split()) + ")"


def _after(words: str, head: str, tail: str = "") -> str:
    """``head`` + ``tail`` where one of ``words`` and a space comes before ``head`` ("the sets", not "sets up").

    The literal ``head`` comes first, so the scan skips it fast (a Python lookbehind is fixed-width: one per word).
    """
    return head + "(?:" + "|".join(f"(?<={w} {head})" for w in words.split()) + ")" + tail


_APOS = "['\u2019]"
#: Adverbs that make "shot", "written", "directed", "acted" a judgement of the craft. Without one, "was
#: shot" is a gunshot and "written by" a credit (often the novel's author), not something said about them.
_CRAFT = _any(
    "well badly poorly beautifully nicely brilliantly superbly wonderfully expertly competently skil+fully "
    "lovingly stunningly gorgeously handsomely lavishly elegantly stylishly artfully cleverly tightly sloppily "
    "clumsily ineptly amateurishly cheaply terribly horribly awfully atrociously shoddily lazily crisply "
    "tastefully effectively masterfully impeccably flawlessly perfectly finely smartly intelligently "
    "professionally excellently splendidly exquisitely imaginatively creatively sensitively"
)
#: Words that make the next one a noun of the film: "the sound", "its length", "the film's sets".
_DET = "the its their his her our whose film's movie's"
_SKIP = "_skip"

#: (aspect, pattern), in priority order: where two patterns match at the same place the earlier wins, and a
#: match consumes its words. So the _SKIP patterns come first: each swallows a phrase in which a term means
#: something else, and the terms inside it are never seen. A compound that belongs to another aspect than
#: its head word ("character actor", "director of photography") comes before the head word's own rule.
#: Patterns are lower case: they run on the lower-cased text.
# fmt: off
_RULES: tuple[tuple[str, str], ...] = (
    # "in the end" means "ultimately"; "at the end of the day" is an idiom: neither is about the ending.
    (_SKIP, r"in the (?:very )?end|at the end of the day"),
    # A heading, not a director's work: "a step in the right direction", "went in a different direction".
    (_SKIP, r"in the (?:general )?direction of|"
           + _any("right wrong same opposite other different new every any one either which what whatever "
                  r"general sense_of") + " direction"),
    # Medicine and consequences: "side effects", "the effects of the war on ...".
    (_SKIP, r"side[- ]effects?|effects (?:on|upon)|effects of(?! (?:the|this) (?:film|movie))"),
    # A rating or a tally, not music: "score of 7", "my score", "keep score", "on that score", "he scores".
    (_SKIP, _any(r"overall final imdb my your average total lowest highest low high perfect possible top rating "
                r"test review critics box[- ]office keep(?:s|ing)? kept settle[sd]? on_(?:that|this|every|all)")
           + r" scores?|scores? (?:of )?\d+"),
    # "Funny" as strange: "a funny feeling", "funny how ...", "funnily enough".
    (_SKIP, r"funny (?:feeling|thing|how|enough|business|smell|looking|that|sort of|kind of|taste|noise)"
           r"|funnily enough"),
    # Verdicts on quality, not humour: "laughable", "a laughing stock", "this film is a joke"; "no joke".
    (_SKIP, r"laugh(?:able|ably|ing[- ]?stock)|no joke|gag (?:reflex|order)|(?:is|was|are|were|'s|’s|be|more"
           r"|such) (?:a |an )?(?:complete |total |real |sick |bad |big |cruel |bit of a )?joke"),
    # The medium, not humour: "comic book", "comics", "comic-con".
    (_SKIP, r"comic(?:[- ]?books?|s|[- ]strips?|[- ]con)"),
    # Not the pace: "slow motion" is a camera effect, "slow-witted" a trait; "keep pace with"; "in drag",
    # "drag queen"; "my wife dragged me to it".
    (_SKIP, r"slow[- ]?(?:motion|mo|death|dance|dancing|witted)|(?:keep|keeps|kept|keeping) pace"
           r"|(?:in|into|out of) drag|drag (?:queens?|kings?|acts?|shows?|race|racing|artists?)"
           r"|dragged (?:me|him|her|us|them|my|our|along|into)"),
    # Not the length: "at great length" (in detail), "feature-length" (a format); "not too long ago".
    (_SKIP, r"at (?:great |some |such )?length|(?:feature|full)[- ]length|too long ago"),
    # The reviewer writing, not the film's writing: "I'm writing this review", "as of this writing".
    (_SKIP, _any(r"i i" + _APOS + r"m im am was were is are be been keep kept start started stop stopped began "
                r"while when after before by for since who he she they we you it time_of as_of_this at_this")
           + r" writing|writing (?:(?:this|my|a|an) (?:review|comment|letter|book|novel|song)|letters|notes|books"
           r"|novels|songs|poetry)"),
    # Verbs and idioms: "cast a spell", "acted as", "acting like" (behaviour, not acting), "role model";
    # "jump to conclusions", "in conclusion"; "ending up", "never-ending", "swan song".
    (_SKIP, r"cast(?:s|ing)? (?:a |an |his |her |their |its |some )?(?:spells?|shadows?|glances?|doubts?|light|pall|eyes?"
           r"|nets?|votes?|aside|away|off|out|adrift|aspersions)|cast[- ]iron|plaster cast"
           r"|act(?:ed|ing|s) (?:as|upon|like|out)\b|role[- ]models?|in conclusion|(?:come|came|comes|coming"
           r"|arrive[sd]?|arriving|reach(?:ed|es|ing)?|jump(?:ed|s|ing)?|le[ad]d?s?|draw(?:n|s|ing)?|drew) to"
           r" (?:the |a |my |any |that )?conclusions?|ending up|never[- ]ending|swan song"),
    # "plays a major role in the plot" is an idiom; "music video", "music teacher" are not the film's music.
    (_SKIP, r"(?:major|key|big|bigger|important|crucial|pivotal|vital|significant|large|huge|central) roles? (?:in|of)"
           r"|music (?:shops?|stores?|industry|business|teachers?|lessons?|class(?:es)?|schools?|career|videos?)"),
    # Compounds that belong to another aspect than their head word.
    # "X, played by Y" introduces a role in a plot summary (three of three uses on the dev sample): no rule.
    ("acting", r"character actors?|casting director|(?:in front of|for) the camera"
               r"|chew(?:s|ed|ing)? (?:up )?the scenery|scenery[- ]chew\w*"),
    ("direction", r"behind the camera"),
    ("visuals", r"director of photography|art direct(?:ion|ors?)"
                r"|(?:make[- ]?up|creature|gore|visual|special|optical|practical|digital) effects?"),
    ("music", r"music(?:al)? direct(?:ion|ors?)|sound[- ]?(?:tracks?|design|designers?|mix|mixing|quality"
              r"|editing|effects?|s?fx|engineer\w*|recording|department|work)"),
    ("characters", r"cast of characters"),
    # The aspects proper.
    ("acting", r"act(?:ing|ed|ors?|ress|resses)|over[- ]?act(?:ing|ed|s)?|under[- ]?(?:act|play)(?:ing|ed)"
               r"|performances?|performers?|portray(?:s|ed|ing|als?)?|cast(?:ing|s)?|miscast(?:ing)?"
               r"|type[- ]?cast|co[- ]?stars?|roles?|thespians?|on[- ]screen presence|screen presence|chemistry"
               r"|hamm(?:y|iness)|(?:can|could)(?:n?" + _APOS + r"t|not| not)? act"
               r"|(?:line|dialogue) delivery|leading (?:man|men|lady|ladies)|wooden(?! (?:horse|house|hut|pier|box|door"
               r"|floor|boat|leg|stake|cross|table|chair|fence|bridge|shack|cabin|puppet|sword|toy)s?\b)|" + _CRAFT + r"[- ](?:acted|played)"),
    ("story", r"story(?:[- ]?lines?|[- ]?telling|[- ]?tellers?)?|stories|plot(?:s|ted|ting|[- ]?lines?|less)?"
              r"|sub[- ]?plots?|narratives?|premise|scripts?|scripted|script[- ]?writ(?:ers?|ing)"
              r"|screen[- ]?plays?|screen[- ]?writ(?:ers?|ing)|writing|" + _after(_DET, "writers")
              + r"|dialog(?:ue)?s?|twists?|exposition|(?:first|second|third|opening|middle) act|" + _CRAFT + r"[- ]written"),
    ("direction", r"direct(?:ors?|orial|ion|ing)(?!" + _APOS + r"s cut)|helm(?:ed|ers?)|mise[- ]en[- ]sc[eè]ne"
                  r"|auteur|" + _CRAFT + r"[- ]directed"),
    # A bare "hero" is mostly the plot ("becomes a hero", "war heroes"); "the hero" is a character.
    # "character" alone is one person of the story or an actor's part ("her character leaves", "a robot
    # character"): 7 of the 9 the validation dev draws found; it counts only in compounds of the craft.
    ("characters", r"characters|character(?=[- ](?:development|study|studies|arcs?|driven|building|depth"
                   r"|motivations?|flaws?)\b)|characteri[sz]ations?|protagonists?|antagonists?|villain(?:s|ess)?"
                   r"|heroines?|anti[- ]?hero(?:es)?|sidekicks?|"
                   + _after("the our main tragic romantic reluctant", "hero", "(?:es)?")),
    # "sound" only as a noun of the film ("the sound"), not "the sound of rain" or "sounds like".
    ("music", r"music|score|composers?|composed by|orchestra(?:l|tion|s)?|songs?|theme (?:tune|music)|tunes"
              r"|lyrics|melod(?:y|ies|ic)|singing|"
              + _after(_DET, "sound", "(?! of| like| as if| as though)")),
    # "sets" after a determiner or an adjective of looks: otherwise it is mostly the verb ("sets up").
    ("visuals", r"cinematograph(?:y|ers?|ic)|photograph(?:y|ed)|camera[- ]?(?:work|angles?|movements?|moves"
                r"|shots?|placement|operators?|man|men|tricks?|techniques?|style)|the camera|effects|cgi|cg"
                r"|computer[- ]generated|sfx|fx|visuals|visually|visual (?:style|flair|sense|design|feast|treat|beauty"
                r"|splendou?r|imagination|look|quality|aspects?|palette|compositions?)|imagery|lighting|"
                + _after(_DET + " elaborate lavish cheap impressive great terrible interior studio cardboard "
                         "period detailed gorgeous realistic spectacular fake flimsy", "sets")
                + r"|set (?:designs?|designers?|decorations?|dressing)|production (?:designs?|designers?|values?)"
                r"|costum(?:es?|ing)|close[- ]?ups?|(?:establishing|tracking|aerial|wide|panoramic|overhead|crane"
                r"|helicopter|location|dolly|underwater|static|hand[- ]?held) shots?|scenery|animation|"
                + _CRAFT + r"[- ](?:shot|filmed|photographed|lit|framed)|shot (?:on|in) (?:video|film|location"
                r"|digital|black and white|colou?r|widescreen|cinemascope|technicolor)"),
    # "boring" alone is a verdict on the whole film; "boring parts", "slow and boring" are about pace.
    ("pacing", r"pac(?:e|ed|ing)|slow(?:er|est|ness)?|slow[- ](?:moving|paced|going|burn)|tempo|too (?:long"
               r"|slow|short|fast|drawn[- ]out)|over[- ]?long|lengthy|long[- ]winded|drawn[- ]out|"
               + _after(_DET, "length") + r"|run(?:ning)?[- ]?time|drags|drag(?:s|ged|ging)? on|draggy"
               r"|(?:seemed|seems|started|starts|begins|began|tends|never|doesn" + _APOS + r"t) to drag|padding"
               r"|padded out|filler|plodding|meander(?:s|ing)?|brisk(?:ly)?|breakneck|dull moments?"
               r"|boring (?:parts?|stretches|bits|middle|moments?|sections?|passages)"),
    # "comedy" alone is mostly the genre ("a romantic comedy"): only "the comedy", "attempts at comedy".
    ("humour", r"humou?r(?:ous|ously|less)?|funn(?:y|ier|iest|ily)|unfunny|jokes?|gags?|laugh(?:s|ed|ing|ter)?"
               r"|hilari(?:ous|ously|ty)|comedic|comical(?:ly)?|comedians?|comediennes?|comic (?:relief|timing"
               r"|touch(?:es)?|moments?|genius|talent|scenes?|bits?|effect)|comedy (?:timing|relief|bits?"
               r"|moments?|routines?|elements?|scenes?|sequences?|writing|value|gold)|"
               + _after("the its some no little at for of", "comedy") + r"|witty|one[- ]liners?|punch[- ]?lines?"
               r"|amusing(?:ly)?|chuckl(?:e|es|ed|ing)|giggl(?:e|es|ed|ing)|slapstick"),
    # "the end" only where it is the film's: "at the end of the movie", "towards the end.", "the end was".
    ("ending", r"endings?|finale|climax|climactic|epilogue|d[eé]nouement|"
               + _after(_DET + " satisfying", "conclusion")
               + "|" + FINAL + r"(?:scenes?|shots?|act|reel|moments|sequences?|frames?|images?"
               r"|showdown|twist|(?:[\w-]+ )?minutes|half[- ]hour)|" + AT_THE_END
               + r"(?= of the (?:film|movie|picture|flick|story|show|episode|series)|\s*[.,;:!?)]| (?:was|is|were)\b)"
               r"|(?:film|movie|story|picture) ends(?! up)"),
)
# fmt: on


def _structure(pattern: str) -> Iterator[tuple[int, str, int]]:
    """``(index, character, depth in groups)`` of each character of a regex outside escapes and ``[...]``."""
    depth, i, in_class = 0, 0, False
    while i < len(pattern):
        char = pattern[i]
        if char == "\\":
            i += 1
        elif in_class or char == "[":
            in_class = char != "]"
        else:
            yield i, char, depth
            depth += (char == "(") - (char == ")")
        i += 1


def _alternatives(pattern: str) -> list[str]:
    """The top-level alternatives of a regular expression: ``"a|b(?:c|d)"`` -> ``["a", "b(?:c|d)"]``."""
    cuts = [i for i, char, depth in _structure(pattern) if char == "|" and depth == 0]
    return [pattern[a + 1 : b] for a, b in zip([-1, *cuts], [*cuts, len(pattern)], strict=True)]


def _expanded(alternative: str) -> list[str]:
    """``alternative`` with a leading group spread out: ``"(?:can|could) act"`` -> ``["can act", "could act"]``."""
    if not alternative.startswith("(?:"):
        return [alternative]
    end = next(i for i, char, depth in _structure(alternative) if char == ")" and depth == 1)
    rest = alternative[end + 1 :]
    if rest[:1] in ("?", "*", "+", "{"):  # an optional group: its first letter is not certain
        return [alternative]
    return [spread for inner in _alternatives(alternative[3:end]) for spread in _expanded(inner + rest)]


# Word boundaries are letters and digits, so "over-acting" and "actor's" match, "factor" and "reacting" do not.
_WORD = r"(?<![^\W_])(?:{})(?![^\W_])"
#: Each rule alone, tried in order where the trigger below fires, to say which rule it was.
_COMPILED = [re.compile(_WORD.format(pattern)) for _, pattern in _RULES]


def _build_trigger() -> tuple[re.Pattern[str], dict[str, tuple[int, ...]], tuple[int, ...]]:
    """One regex for "some rule matches here", fast because it is sorted by first letter.

    Python's regex engine skips an alternative that starts with a literal character in one comparison, but
    must enter every other one; so the alternatives of all rules are grouped by their first letter (about
    30 quick skips per word instead of hundreds of attempts), and only the few that start with a group
    ("(?:can|could) act") are tried everywhere. Returns the trigger, the rules worth trying at a position by
    its character, and the rules to try at any other character.
    """
    buckets: dict[str, list[str]] = {}
    others: list[str] = []
    rules_of: dict[str, set[int]] = {}
    anywhere: set[int] = set()
    for index, (_, pattern) in enumerate(_RULES):
        for alternative in (spread for top in _alternatives(pattern) for spread in _expanded(top)):
            head = alternative[:1]
            if head not in "\\.^$*+?{}[]|()" and alternative[1:2] not in ("?", "*", "+", "{"):
                buckets.setdefault(head, []).append(alternative[1:])
                rules_of.setdefault(head, set()).add(index)
            else:
                others.append(alternative)
                anywhere.add(index)
    branches = [f"{head}(?:{'|'.join(rest)})" for head, rest in sorted(buckets.items())] + others
    trigger = re.compile(_WORD.format("|".join(branches)))
    return trigger, {c: tuple(sorted(r | anywhere)) for c, r in rules_of.items()}, tuple(sorted(anywhere))


_TRIGGER, _RULES_AT, _RULES_ANYWHERE = _build_trigger()
_ASCII_LOWER = str.maketrans(string.ascii_uppercase, string.ascii_lowercase)
assert {a for a, _ in _RULES} == {*ASPECTS, _SKIP}, "every aspect needs a rule, and every rule a known aspect"


def _lower(text: str) -> str:
    """``text`` lower-cased character for character, so offsets stay valid (the rules are lower case)."""
    lowered = text.lower()  # one character can become two ("İ"): then only ASCII is lowered
    return lowered if len(lowered) == len(text) else text.translate(_ASCII_LOWER)


def _terms(text: str) -> list[tuple[str, int, int]]:
    """``(aspect, start, end)`` of every term in ``text``, in order (the _SKIP phrases left out)."""
    found = []
    lowered = _lower(text)
    position = 0
    while hit := _TRIGGER.search(lowered, position):
        at = hit.start()
        for index in _RULES_AT.get(lowered[at], _RULES_ANYWHERE):
            match = _COMPILED[index].match(lowered, at)
            if match:  # the first rule in priority order that matches here, as one alternation would
                if _RULES[index][0] != _SKIP:
                    found.append((_RULES[index][0], at, match.end()))
                position = match.end()
                break
        else:  # unreachable: the trigger is the union of the rules
            position = at + 1
    return found


def find_aspects(texts: Sequence[str]) -> pd.DataFrame:
    """Find which aspects each sentence of each review talks about.

    Args:
        texts: Reviews, as written (IMDb markup included); a single string is rejected.

    Returns:
        One row per (review, sentence, aspect) found, in text order: ``review`` (index into ``texts``),
        ``sentence`` (index into :func:`split_sentences` of that review), ``start`` and ``end`` (the
        sentence's character span in the review), ``aspect`` (a key of :data:`ASPECTS`, categorical in that
        order), ``term`` (the first term of that aspect in the sentence, lower-cased) and ``term_start``
        (where that term starts in the review). A sentence with several aspects has several rows; a review
        or sentence with none has none.

    Raises:
        InputError: ``texts`` is a single string or holds something other than strings.
    """
    items = check_texts(texts, allow_empty=True)
    rows: list[tuple[int, int, int, int, str, str, int]] = []
    for review, text in enumerate(items):
        spans: list[tuple[int, int]] | None = None
        starts: list[int] = []
        seen: set[tuple[int, str]] = set()
        for aspect, at, until in _terms(text):
            if spans is None:  # split only the reviews that mention something
                spans = split_sentences(text)
                starts = [start for start, _ in spans]
            sentence = bisect_right(starts, at) - 1
            if sentence < 0 or at >= spans[sentence][1] or (sentence, aspect) in seen:
                continue
            start, end = spans[sentence]
            term = " ".join(text[at:until].lower().split())
            if needs_judgement(term) and not judges(text[start:end]):
                continue  # a plot-telling use ("his character goes home"); a later term may still count
            seen.add((sentence, aspect))
            rows.append((review, sentence, start, end, aspect, term, at))
    table = pd.DataFrame(rows, columns=list(COLUMNS))
    table = table.astype(
        {"review": "int64", "sentence": "int64", "start": "int64", "end": "int64", "term": str, "term_start": "int64"}
    )
    table["aspect"] = pd.Categorical(table["aspect"], categories=list(ASPECTS))
    return table
