"""Counter-based random draws: every number is a pure function of (seed, stream, entity, month)."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

U64 = npt.NDArray[np.uint64]
F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_K_ENTITY = np.uint64(0xD6E8FEB86659FD93)
_K_MONTH = np.uint64(0xA0761D6478BD642F)
_TWO_53 = 1.0 / float(1 << 53)
_TWO_32 = 1.0 / float(1 << 32)
_MASK32 = np.uint64(0xFFFFFFFF)


def mix64(value: U64) -> U64:
    """The splitmix64 finaliser: a bijective, well-avalanched mix of 64 bits."""
    value = value ^ (value >> np.uint64(30))
    value = value * _M1
    value = value ^ (value >> np.uint64(27))
    value = value * _M2
    return value ^ (value >> np.uint64(31))


def _as_u64(values: npt.ArrayLike) -> U64:
    # Negative month offsets (burn-in) wrap to large uint64: still a distinct counter.
    return np.asarray(values, dtype=np.int64).astype(np.uint64)


class Streams:
    """Independent random streams of one market seed.

    ``stream`` names the quantity (a small integer constant per draw site) so that adding a
    new draw never shifts the numbers of existing ones; ``entity`` and ``month`` broadcast.
    """

    def __init__(self, seed: int) -> None:
        self._seed_key = mix64(np.array([seed & 0xFFFFFFFFFFFFFFFF], dtype=np.uint64))[0]

    def bits(self, stream: int, entity: npt.ArrayLike, month: npt.ArrayLike = 0) -> U64:
        with np.errstate(over="ignore"):
            key = mix64(np.array([self._seed_key ^ (np.uint64(stream) * _GOLDEN)]))[0]
            x = _as_u64(entity) * _K_ENTITY + _as_u64(month) * _K_MONTH
            return mix64(mix64(x + key) ^ key)

    def uniform(self, stream: int, entity: npt.ArrayLike, month: npt.ArrayLike = 0) -> F64:
        """Uniform on (0, 1), 53 bits."""
        b = self.bits(stream, entity, month)
        return ((b >> np.uint64(11)).astype(np.float64) + 0.5) * _TWO_53

    def normal(self, stream: int, entity: npt.ArrayLike, month: npt.ArrayLike = 0) -> F64:
        """Standard normal by Box-Muller on the two 32-bit halves of one draw."""
        b = self.bits(stream, entity, month)
        u1 = ((b >> np.uint64(32)).astype(np.float64) + 0.5) * _TWO_32
        u2 = ((b & _MASK32).astype(np.float64) + 0.5) * _TWO_32
        out: F64 = np.sqrt(-2.0 * np.log(u1)) * np.cos(2.0 * np.pi * u2)
        return out

    def integers(
        self, stream: int, low: int, high: int, entity: npt.ArrayLike, month: npt.ArrayLike = 0
    ) -> I64:
        """Integers in [low, high)."""
        u = self.uniform(stream, entity, month)
        out: I64 = (low + np.floor(u * (high - low))).astype(np.int64)
        return np.minimum(out, high - 1)

    def choice(
        self,
        stream: int,
        weights: npt.ArrayLike,
        entity: npt.ArrayLike,
        month: npt.ArrayLike = 0,
    ) -> I64:
        """Index into ``weights`` (need not sum to one)."""
        w = np.asarray(weights, dtype=np.float64)
        cum = np.cumsum(w / w.sum())
        u = self.uniform(stream, entity, month)
        out: I64 = np.minimum(np.searchsorted(cum, u, side="right"), len(w) - 1).astype(np.int64)
        return out

    def poisson(
        self, stream: int, lam: npt.ArrayLike, entity: npt.ArrayLike, month: npt.ArrayLike = 0
    ) -> I64:
        """Poisson counts by inversion of the CDF (exact for the rates used here, capped at 60)."""
        u = self.uniform(stream, entity, month)
        lam_arr = np.broadcast_to(np.asarray(lam, dtype=np.float64), u.shape).ravel()
        flat_u = u.ravel()
        k = np.zeros(flat_u.shape, dtype=np.int64)
        p = np.exp(-lam_arr)
        cdf = p.copy()
        active = np.nonzero(flat_u > cdf)[0]
        step = 1
        while len(active) and step <= 60:
            k[active] += 1
            p_a = p[active] * lam_arr[active] / step
            p[active] = p_a
            cdf[active] += p_a
            active = active[flat_u[active] > cdf[active]]
            step += 1
        return k.reshape(u.shape)
