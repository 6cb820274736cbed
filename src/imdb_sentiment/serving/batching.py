"""Score concurrent requests together: one ``predict_proba_and_stars`` call per model per round.

Under many concurrent clients most requests carry one review, and a model's fixed cost per call (the
sparse model's array set-up, a network's forward pass) dwarfs its cost per review. So requests that
arrive while a round is being scored wait for the next round and are scored in one call. Nothing waits on
a timer: a round starts as soon as the event loop is free, so a lone request is not delayed at all.

The queue of each model is bounded, in requests and in reviews: past either bound a request is refused at
once (:class:`Overloaded`, a 503 in the API) instead of waiting behind work the server cannot catch up on.
Predict and summarize requests share a model's queue: a summary's reviews count like a prediction's.

A model with a rating head rates each review in the same round (:meth:`SentimentModel.predict_proba_and_stars`),
where its probabilities are computed.
"""

from __future__ import annotations

import asyncio
import collections
import dataclasses
from collections.abc import Mapping

import numpy as np
from fastapi.concurrency import run_in_threadpool

from imdb_sentiment.models.base import SentimentModel

#: Largest round, in characters, scored on the event loop; larger rounds go to the threadpool.
INLINE_CHARS = 100_000
#: Most reviews scored in one round; later requests wait for the next.
ROUND_TEXTS = 512


class Overloaded(Exception):
    """A model's queue is full: the request was not queued. ``str()`` says which bound, for the client."""


@dataclasses.dataclass(frozen=True)
class Scores:
    """What a model says of some reviews: ``predict_proba`` and, when it rates, their star distributions."""

    proba: np.ndarray
    stars: np.ndarray | None = None

    def rows(self, start: int, stop: int) -> Scores:
        return Scores(self.proba[start:stop], None if self.stars is None else self.stars[start:stop])


_Waiting = collections.deque[tuple[list[str], asyncio.Future[Scores]]]


class MicroBatcher:
    """Collects the reviews of concurrent requests per model and scores each round in one call.

    Args:
        models: The models by name.
        max_requests: Most requests waiting (not yet in a round) per model.
        max_texts: Most reviews waiting per model; a request is admitted whole or not at all (into an
            empty queue always, whatever its size).
    """

    def __init__(
        self, models: Mapping[str, SentimentModel], *, max_requests: int = 2**31, max_texts: int = 2**31
    ) -> None:
        self._models = models
        self._max_requests = max_requests
        self._max_texts = max_texts
        self._waiting: dict[str, _Waiting] = collections.defaultdict(collections.deque)
        self._waiting_texts: collections.Counter[str] = collections.Counter()
        self._rounds: dict[str, asyncio.Task[None]] = {}

    async def predict_proba(self, name: str, texts: list[str]) -> np.ndarray:
        """``models[name].predict_proba(texts)``, scored together with other requests waiting for ``name``.

        Raises:
            Overloaded: the model's queue is full; nothing was queued.
        """
        return (await self.score(name, texts)).proba

    async def score(self, name: str, texts: list[str]) -> Scores:
        """``models[name].predict_proba_and_stars(texts)``, scored together with other requests for ``name``.

        Raises:
            Overloaded: the model's queue is full; nothing was queued.
        """
        waiting = self._waiting[name]
        if len(waiting) >= self._max_requests:
            raise Overloaded(f"{len(waiting)} requests are already waiting for model {name!r}")
        if waiting and self._waiting_texts[name] + len(texts) > self._max_texts:
            raise Overloaded(f"{self._waiting_texts[name]:,} reviews are already waiting for model {name!r}")
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Scores] = loop.create_future()
        waiting.append((texts, future))
        self._waiting_texts[name] += len(texts)
        if name not in self._rounds:
            self._rounds[name] = loop.create_task(self._run(name))
        return await future

    async def _run(self, name: str) -> None:
        model = self._models[name]
        waiting = self._waiting[name]
        try:
            while waiting:
                # One turn of the event loop first, so that requests already received join this round.
                await asyncio.sleep(0)
                batch = self._take(waiting)
                self._waiting_texts[name] -= sum(len(request) for request, _ in batch)
                # A request that timed out or whose client went away while waiting is not scored.
                batch = [(request, future) for request, future in batch if not future.done()]
                if not batch:
                    continue
                texts = [text for request, _ in batch for text in request]
                try:
                    scores = await self._score(model, texts)
                except Exception:
                    # One bad request must not fail the others: score each on its own.
                    await self._score_each(model, batch)
                    continue
                start = 0
                for request, future in batch:
                    if not future.done():  # a client that went away leaves a cancelled future
                        future.set_result(scores.rows(start, start + len(request)))
                    start += len(request)
        finally:
            del self._rounds[name]

    @staticmethod
    def _take(waiting: _Waiting) -> list[tuple[list[str], asyncio.Future[Scores]]]:
        batch = [waiting.popleft()]  # the first request always fits, however many reviews it has
        size = len(batch[0][0])
        while waiting and size + len(waiting[0][0]) <= ROUND_TEXTS:
            batch.append(waiting.popleft())
            size += len(batch[-1][0])
        return batch

    @staticmethod
    async def _score(model: SentimentModel, texts: list[str]) -> Scores:
        # A kind whose calls are cheap (``cheap_calls``: a sparse linear model takes ~0.3 ms for one review)
        # is scored on the event loop itself: handing it to a thread and back would cost more than the scoring.
        if model.cheap_calls and sum(map(len, texts)) <= INLINE_CHARS:
            return Scores(*model.predict_proba_and_stars(texts))
        return Scores(*await run_in_threadpool(model.predict_proba_and_stars, texts))

    async def _score_each(self, model: SentimentModel, batch: list[tuple[list[str], asyncio.Future[Scores]]]) -> None:
        for request, future in batch:
            try:
                result = await self._score(model, request)
            except Exception as exc:
                if not future.done():
                    future.set_exception(exc)
                continue
            if not future.done():
                future.set_result(result)
