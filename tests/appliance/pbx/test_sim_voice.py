"""The simulator's generated speech: a valid narrow-band WAV of the asked length, not silence."""
from __future__ import annotations

import array
import io
import random
import wave

from appliance.pbx.sim_voice import speech_wav


def test_speech_is_a_wav_of_the_length_asked_with_sound_and_pauses() -> None:
    data = speech_wav(3.0, random.Random(1))
    with wave.open(io.BytesIO(data)) as w:
        assert (w.getnchannels(), w.getsampwidth(), w.getframerate()) == (1, 2, 8000)
        assert w.getnframes() == 24000
        samples = array.array("h", w.readframes(w.getnframes()))
    loud = sum(1 for s in samples if abs(s) > 500)
    assert 0.3 < loud / len(samples) < 0.95, "syllables with pauses between them"
    assert speech_wav(3.0, random.Random(1)) == data, "the same seed speaks the same"
