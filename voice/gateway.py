"""The live voice path: the customer's microphone over WebRTC to a server-side aiortc peer,
decoded offline (voice.pipeline), partial text streamed back, then the final text and intent.

Nothing leaves the server: no audio is stored, and logs carry ids and the intent only (never
the words, amounts or payees at info level).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import structlog
from aiortc.mediastreams import MediaStreamError

from signaling.domain.notices import user
from signaling.outbound import Outbound, VoiceFailed, VoicePartial, VoiceResult
from signaling.ports import Delivery

from .audio import Resampler
from .endpoint import EndpointConfig
from .models import ModelUnavailable
from .payees import PayeeBook
from .pipeline import AsyncUtterance, Speech, preload
from .rtc import answer_offer, peer_connection

log = structlog.get_logger("voice")

# Partials are sent when they change, at most this often: captions, not a firehose.
PARTIAL_EVERY_S = 0.15


class VoiceError(Exception):
    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class VoiceSettings:
    max_streams: int = 24  # concurrent utterances one process serves (docs/voice.md measures it)
    ice_servers: tuple[dict, ...] = ()
    loopback_only: bool = False  # tests on a loopback-only host: 127.0.0.1 candidates only (voice.rtc)
    endpoint: EndpointConfig = EndpointConfig()


class VoiceStream:
    """One customer's utterance: a peer connection and the recognizer it feeds."""

    def __init__(
        self,
        customer: str,
        lang: str,
        payees: PayeeBook,
        settings: VoiceSettings,
        speech: Speech,
        tell: Callable[[Outbound], Awaitable[None]],
        on_done: Callable[[], None] = lambda: None,
    ) -> None:
        self.customer = customer
        self.on_done = on_done
        self.lang = lang
        self.payees = payees
        self.settings = settings
        self.speech = speech
        self.tell = tell  # to this customer (the gateway's delivery)
        self.pc = peer_connection(settings.ice_servers)
        self.task: asyncio.Task | None = None
        self.stopping = asyncio.Event()
        self.done = asyncio.Event()

    async def answer(self, offer_sdp: str) -> str:
        @self.pc.on("track")
        def on_track(track) -> None:
            if track.kind == "audio" and self.task is None:
                self.task = asyncio.create_task(self._listen(track), name=f"voice-{self.customer}")

        return await answer_offer(self.pc, offer_sdp, self.settings.loopback_only)

    async def _listen(self, track) -> None:
        utterance = None
        try:
            utterance = await AsyncUtterance.open(self.speech, self.lang, self.payees, endpoint=self.settings.endpoint)
            resampler = Resampler()
            last_partial, last_sent = None, 0.0
            loop = asyncio.get_running_loop()
            while not self.stopping.is_set():
                try:
                    frame = await asyncio.wait_for(track.recv(), timeout=1.0)
                except TimeoutError:
                    continue  # no audio for a second: the endpointer's cap still ends it
                update = await utterance.feed(resampler.pcm(frame))
                if update.partial and update.partial != last_partial and loop.time() - last_sent >= PARTIAL_EVERY_S:
                    last_partial, last_sent = update.partial, loop.time()
                    await self.tell(VoicePartial(text=update.partial))
                if update.ended:
                    break
            result = await utterance.finish()
            utterance = None
            log.info(
                "voice_result",
                customer=self.customer,
                intent=result.intent,
                engine=result.engine,
                pass_name=result.pass_name,
                seconds=round(result.seconds, 2),
            )
            await self.tell(VoiceResult.validate(result.to_json()))
        except MediaStreamError:  # the customer's side hung up mid-utterance
            await self.tell(VoiceFailed(code="voice_interrupted", message="语音中断了，请再说一次。"))
        except ModelUnavailable as exc:
            await self.tell(VoiceFailed(code="voice_unavailable", message=str(exc)))
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("voice_failed", customer=self.customer)
            await self.tell(VoiceFailed(code="voice_failed", message="没有听清，请再说一次。"))
        finally:
            if utterance is not None:
                utterance.utterance.close()  # give the recognizer back without decoding
            self.done.set()
            self.on_done()
            await self.pc.close()

    async def stop(self) -> None:
        """Tap again: stop listening now and decode what was said."""
        self.stopping.set()

    async def close(self) -> None:
        self.stopping.set()
        if self.task is not None and not self.done.is_set():
            self.task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.task
        await self.pc.close()


class VoiceGateway:
    """All live utterances of this process: one per customer, a cap on how many at once."""

    def __init__(
        self,
        settings: VoiceSettings,
        payees_of: Callable[[str], Awaitable[list[dict]]],
        delivery: Delivery,
        speech: Speech,
    ) -> None:
        self.settings = settings
        self.speech = speech  # the models and the decoding threads (the app owns them)
        self.payees_of = payees_of
        self.delivery = delivery  # the customer's sockets, as every other message reaches them
        self.streams: dict[str, VoiceStream] = {}
        self.unavailable: dict[str, str] = {}  # language → why its model could not be loaded

    async def preload(self, languages: tuple[str, ...] = ("zh", "en")) -> None:
        """Load the models at start-up, off the event loop; a missing one is a clear message
        naming the setting, and the rest of the service runs on."""
        for lang in languages:
            try:
                engine = await self.speech.run(preload, self.speech.models, lang)
                log.info("voice_ready", lang=lang, engine=engine)
            except ModelUnavailable as exc:
                self.unavailable[lang] = str(exc)
                log.warning("voice_unavailable", lang=lang, reason=str(exc))

    async def start(self, customer: str, lang: str, offer_sdp: str) -> str:
        if lang in self.unavailable:
            raise VoiceError("voice_unavailable", "语音暂不可用 / Voice unavailable")
        # A new start from the same customer replaces the old one (double taps, two tabs).
        await self.close(customer)
        if len(self.streams) >= self.settings.max_streams:
            raise VoiceError("voice_busy", "语音助手正忙，请稍后再试。")
        book = PayeeBook.from_records(await self.payees_of(customer))

        async def tell(message: Outbound) -> None:
            await self.delivery.send(user(customer), message)

        def forget() -> None:
            if self.streams.get(customer) is stream:
                del self.streams[customer]

        stream = VoiceStream(customer, lang, book, self.settings, self.speech, tell, on_done=forget)
        self.streams[customer] = stream
        try:
            return await stream.answer(offer_sdp)
        except Exception as exc:
            self.streams.pop(customer, None)
            await stream.close()
            raise VoiceError("bad_payload", "The voice offer could not be used.") from exc

    async def stop(self, customer: str) -> None:
        stream = self.streams.get(customer)
        if stream is None:
            raise VoiceError("not_found", "Nothing is being listened to.")
        await stream.stop()

    async def close(self, customer: str) -> None:
        stream = self.streams.pop(customer, None)
        if stream is not None:
            await stream.close()

    async def close_all(self) -> None:
        for customer in list(self.streams):
            await self.close(customer)
