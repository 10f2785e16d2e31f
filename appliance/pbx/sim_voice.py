"""The simulator's callers "speak": a WAV of voiced syllables and pauses, so a voice message left on the
simulator is real audio that plays in the desk and arrives as an e-mail attachment."""
from __future__ import annotations

import array
import io
import math
import random
import wave

RATE = 8000          # narrow-band telephony, as a PBX records it
SYLLABLE_S = (0.12, 0.3)
PAUSE_S = (0.04, 0.5)


def speech_wav(seconds: float, rng: random.Random) -> bytes:
    """A mono 16-bit 8 kHz WAV of about `seconds` of speech-like sound (pitch and loudness vary per syllable)."""
    total = max(1, int(seconds * RATE))
    samples = array.array("h", bytes(2 * total))
    pos = 0
    while pos < total:
        length = int(rng.uniform(*SYLLABLE_S) * RATE)
        pitch = rng.uniform(95.0, 230.0)
        loud = rng.uniform(3000.0, 9000.0)
        step = 2 * math.pi * pitch / RATE
        for i in range(min(length, total - pos)):
            envelope = math.sin(math.pi * i / length)  # a syllable swells and fades
            phase = step * i
            value = loud * envelope * (math.sin(phase) + 0.5 * math.sin(2 * phase) + 0.25 * math.sin(3 * phase))
            samples[pos + i] = max(-32767, min(32767, int(value)))
        pos += length + int(rng.uniform(*PAUSE_S) * RATE)  # silence between syllables stays zero
    out = io.BytesIO()
    with wave.open(out, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(RATE)
        w.writeframes(samples.tobytes())
    return out.getvalue()
