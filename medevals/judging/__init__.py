"""Model-as-judge, once for every judged benchmark: templates, verdict parsing, juries, agreement tables.

A judge is any model role ``judge:i`` (from ``--judge A,B``) called through ``ctx.generate``,
so judge calls are cached, journaled, retried and costed like candidate calls. A verdict is
JSON validated by a pydantic model; one repair turn is allowed; a verdict that still cannot
be read is a *judge failure* (kept with its raw text, the sample unscored), never a "no".
"""
