"""Writes one script's section of benches/RESULTS.md.

Each bench script that records results owns one section, between `<!-- NAME begin -->` and
`<!-- NAME end -->`; `write_section` replaces that section (or appends it) and leaves the rest
of the file alone, so compare.sh and the other scripts can rewrite their parts independently.
"""

import re

PATH = "benches/RESULTS.md"


def write_section(owner, lines):
    """Replaces `owner`'s section with `lines` (without the markers) and prints it."""
    block = "\n".join([f"<!-- {owner} begin -->", *lines, f"<!-- {owner} end -->"]) + "\n"
    try:
        text = open(PATH).read()
    except FileNotFoundError:
        text = "# Benchmark results\n\n"
    pat = re.compile(rf"<!-- {re.escape(owner)} begin -->.*?<!-- {re.escape(owner)} end -->\n?", re.S)
    text = pat.sub(lambda m: block, text) if pat.search(text) else text.rstrip("\n") + "\n\n" + block
    open(PATH, "w").write(text)
    print(block)
