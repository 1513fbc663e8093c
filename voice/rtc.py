"""aiortc peer connections as the servers' receive-only peers use them (the voice gateway, call
audio in assist.storage.call_audio): explicit ICE servers, and loopback-only candidates on a
test host, for one connection at a time.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from aiortc import RTCConfiguration, RTCIceServer, RTCPeerConnection, RTCSessionDescription

LOOPBACK = "127.0.0.1"


def peer_connection(ice_servers: tuple[dict, ...] = ()) -> RTCPeerConnection:
    # Always explicit: with no iceServers aiortc would ask a public STUN server.
    return RTCPeerConnection(RTCConfiguration(iceServers=[RTCIceServer(**s) for s in ice_servers]))


async def answer_offer(pc: RTCPeerConnection, offer_sdp: str, loopback_only: bool = False) -> str:
    """Answer an offer; the answer carries the candidates (aiortc gathers before answering)."""
    await pc.setRemoteDescription(RTCSessionDescription(sdp=offer_sdp, type="offer"))
    if loopback_only:  # the offer made the transports; they gather in setLocalDescription
        gather_on_loopback(pc)
    await pc.setLocalDescription(await pc.createAnswer())
    return pc.localDescription.sdp


def gather_on_loopback(pc: RTCPeerConnection) -> None:
    """Host candidates on 127.0.0.1 only, for this connection: tests on a host whose only
    network is loopback (aioice leaves 127.0.0.1 out of its host addresses, which leaves
    nothing to connect over there). Call it once the connection has its transports (after
    setRemoteDescription of an offer, or after addTrack on the offering side) and before
    setLocalDescription, which gathers.

    aiortc has no setting for the addresses, and aioice reads them from one module function
    (aioice.ice.get_host_addresses) that every connection in the process shares; replacing it
    changed every peer in the process. Instead, each of this connection's ICE gatherers gets
    its aioice Connection's `get_component_candidates` (the one step that binds the host
    addresses it is given) wrapped on that one object, with the loopback address. The only
    thing reached past aiortc's API is RTCIceGatherer._connection (aiortc 1.x, aioice 0.9+)."""
    transports = [t.receiver.transport for t in pc.getTransceivers()]
    if pc.sctp is not None:
        transports.append(pc.sctp.transport)
    for gatherer in {id(t.transport.iceGatherer): t.transport.iceGatherer for t in transports}.values():
        connection = gatherer._connection
        # On this one object, on purpose (see above): mypy rightly flags assigning to a method.
        connection.get_component_candidates = _on_loopback(  # type: ignore[method-assign,assignment]
            connection.get_component_candidates
        )


def _on_loopback(gather: Callable[..., Awaitable[list]]) -> Callable[..., Awaitable[list]]:
    async def on_loopback(component: int, addresses: list[str], timeout: int = 5) -> list:
        return await gather(component=component, addresses=[LOOPBACK], timeout=timeout)

    return on_loopback
