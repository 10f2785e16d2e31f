"""Queue scripts (B8): a small line-based language per queue, validated at save, run per call.

    parse(text) -> Script        # raises ScriptError listing every problem with its line
    ScriptRun(script, facts)     # one caller's way through the script; .next(result) -> Action

See `language.md` beside this file for the statements and conditions.
"""
from appliance.domain.queue_script.conditions import Condition, compile_condition
from appliance.domain.queue_script.errors import ScriptError, ScriptProblem
from appliance.domain.queue_script.interpreter import (Action, Announce, Collect, Enqueue, Hangup, Lookup, Menu,
                                                      OfferCallback, Overflow, Play, PlayValue, ScriptRun, SetVar,
                                                      Survey, Voicemail)
from appliance.domain.queue_script.parser import Script, Statement, parse

__all__ = ["Action", "Announce", "Collect", "Condition", "Enqueue", "Hangup", "Lookup", "Menu", "OfferCallback",
           "Overflow", "Play", "PlayValue", "Script", "ScriptError", "ScriptProblem", "ScriptRun", "SetVar",
           "Statement", "Survey", "Voicemail", "compile_condition", "parse"]
