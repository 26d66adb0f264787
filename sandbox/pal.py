"""langchain-experimental's ``PALChain`` with its program run in our sandbox (the ``experimental`` extra)."""

from __future__ import annotations

from typing import Any

from langchain_core.callbacks import CallbackManagerForChainRun
from langchain_experimental.pal_chain import PALChain

from sandbox.repl import SandboxedPythonREPL


class SandboxedPALChain(PALChain):
    """``PALChain`` whose generated program runs in :class:`SandboxedPythonREPL`, never in this process.

    Build it as the original (``SandboxedPALChain.from_math_prompt(llm, allow_dangerous_code=True)``:
    the flag the original demands; here the code is confined all the same).
    """

    def _call(
        self, inputs: dict[str, Any], run_manager: CallbackManagerForChainRun | None = None
    ) -> dict[str, str]:
        manager = run_manager or CallbackManagerForChainRun.get_noop_manager()
        code = self.llm_chain.predict(stop=[self.stop], callbacks=manager.get_child(), **inputs)
        manager.on_text(code, color="green", end="\n", verbose=self.verbose)
        PALChain.validate_code(code, self.code_validations)
        repl = SandboxedPythonREPL(_globals=self.python_globals, _locals=self.python_locals)
        answer = repl.run(f"{code}\n{self.get_answer_expr}", timeout=self.timeout)
        output = {self.output_key: answer.strip()}
        if self.return_intermediate_steps:
            output["intermediate_steps"] = code
        return output
