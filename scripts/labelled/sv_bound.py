#!/usr/bin/python3
"""Runs Debian's sipvicious 0.3.3 svwar or svcrack with -b honoured.

usage: sv_bound.py svwar|svcrack [the tool's own options, including -b IP]

Both tools parse -b/--bindingip but never hand it to the class that opens the
socket, so they always send from the kernel's default source (127.0.0.1 on
loopback).  This wrapper imports the installed tool unchanged and passes the
-b address to that class; everything else is the tool itself.  Must run
under the interpreter sipvicious is installed for (/usr/bin/python3).
"""
import importlib
import sys

sys.path.insert(0, "/usr/share/sipvicious")
CLASSES = {"svwar": "TakeASip", "svcrack": "ASipOfRedWine"}


def main():
    if len(sys.argv) < 2 or sys.argv[1] not in CLASSES:
        raise SystemExit(__doc__)
    tool = sys.argv.pop(1)
    bind = ""
    for i, arg in enumerate(sys.argv):
        if arg in ("-b", "--bindingip") and i + 1 < len(sys.argv):
            bind = sys.argv[i + 1]
        elif arg.startswith("--bindingip="):
            bind = arg.split("=", 1)[1]
    mod = importlib.import_module("sipvicious." + tool)
    cls = getattr(mod, CLASSES[tool])
    orig = cls.__init__

    def init(self, *a, **kw):
        if bind:
            kw["bindingip"] = bind
        orig(self, *a, **kw)

    cls.__init__ = init
    sys.argv[0] = tool
    return mod.main()


if __name__ == "__main__":
    sys.exit(main())
