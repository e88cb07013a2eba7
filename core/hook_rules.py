"""Rules a plugin's hook implementations must follow before pimm registers them.

pluggy itself checks signatures (``check_pending``); these rules add what pimm's way of calling
hooks needs: every hookimpl names a known hook (a misspelling gets the closest name), and the
argument-free collection hooks carry no ordering or wrapping marker, because pimm calls them one
plugin at a time and such a marker could only be silently ignored; and a plugin implements each
hook once (a second implementation through ``specname=`` would be silently dropped).
"""

from __future__ import annotations

import difflib
from typing import Any

import pluggy

from . import hookspecs

__all__ = ["ORDER_MARKERS", "hook_problem"]

#: pluggy markers that change call order or wrap calls; pimm calls argument-free hooks itself, one
#: plugin at a time, so on those hooks the markers would have no effect.
ORDER_MARKERS = ("tryfirst", "trylast", "hookwrapper", "wrapper")


def hook_problem(pm: pluggy.PluginManager, obj: Any) -> str | None:
    """Why ``obj``'s hookimpls cannot be used as written (misspelled name, ignored marker), or None."""
    known = [name for name in dir(pm.hook) if name.startswith(f"{hookspecs.PROJECT_NAME}_")]
    try:
        attributes = dir(obj)
    except Exception:  # an object whose dir() fails: let pluggy report what it finds
        return None
    seen: dict[str, str] = {}
    for attr in attributes:
        try:
            opts = pm.parse_hookimpl_opts(obj, attr)
        except Exception:
            continue
        if opts is None:
            continue
        hook = opts.get("specname") or attr
        if hook not in known:
            if opts.get("optionalhook"):
                continue
            close = difflib.get_close_matches(hook, known, n=1, cutoff=0.6)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            return f"unknown hook {hook!r}{hint}; pimm's hooks are: {', '.join(sorted(known))}"
        if hook in seen:
            return (f"{hook} is implemented twice ({seen[hook]!r} and {attr!r}, through specname=); pimm calls "
                    "one implementation per plugin and hook: return every spec from one function")
        seen[hook] = attr
        caller = getattr(pm.hook, hook)
        argument_free = caller.spec is not None and not caller.spec.argnames
        markers = [m for m in ORDER_MARKERS if opts.get(m)]
        if argument_free and markers:
            return (f"{hook} is marked {', '.join(markers)}, which pimm does not honour: it calls "
                    f"{hook} of every plugin itself, one at a time, and a name two plugins provide is "
                    "an error rather than an ordering question; remove the marker")
    return None
