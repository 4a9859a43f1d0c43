#!/usr/bin/env python3
"""Read a callgrind dump (`callgrind.sh`'s NAME.out.K) per request.

  costs.py self FILE [N] [TOP]        instructions per request by function, self cost, largest first
  costs.py callers REGEX FILE [N]     who calls the functions matching REGEX, and what it costs them
  costs.py callees REGEX FILE [N]     what the functions matching REGEX call (inclusive costs)

N is the requests the dump covers (300); the first line of `self` is the total per request.
memset/memcpy with `rep stos`/`rep movs` count one instruction per byte or word moved here,
so their counts overstate their time.
"""
import collections
import re
import sys


def parse(path):
    names, self_cost = {}, collections.Counter()
    inclusive, calls = collections.Counter(), collections.Counter()
    fn = cfn = None
    pending = None

    def name(s):
        m = re.match(r"\((\d+)\)(?: (.*))?", s)
        if not m:
            return s
        if m.group(2):
            names[m.group(1)] = m.group(2)
        return names.get(m.group(1), s)

    for line in open(path):
        line = line.rstrip("\n")
        if line.startswith("fn="):
            fn = name(line[3:])
        elif line.startswith("cfn="):
            cfn = name(line[4:])
        elif line.startswith("calls="):
            pending = int(line[6:].split()[0])
        elif line and (line[0].isdigit() or line[0] in "+-*"):
            parts = line.split()
            if len(parts) < 2:
                continue
            if pending is None:
                self_cost[fn] += int(parts[1])
            else:
                inclusive[(fn, cfn)] += int(parts[1])
                calls[(fn, cfn)] += pending
                pending = None
    return self_cost, inclusive, calls


def main():
    mode = sys.argv[1]
    if mode == "self":
        path = sys.argv[2]
        n = int(sys.argv[3]) if len(sys.argv) > 3 else 300
        top = int(sys.argv[4]) if len(sys.argv) > 4 else 40
        self_cost, _, _ = parse(path)
        total = sum(self_cost.values())
        print(f"total per request: {total // n}")
        for f, c in self_cost.most_common(top):
            print(f"{c // n:>9} {100 * c / total:5.1f}%  {f[:150]}")
        return
    pattern, path = re.compile(sys.argv[2]), sys.argv[3]
    n = int(sys.argv[4]) if len(sys.argv) > 4 else 300
    _, inclusive, calls = parse(path)
    side = 1 if mode == "callers" else 0
    rows = [(c, k) for k, c in inclusive.items() if pattern.search(k[side] or "")]
    for c, k in sorted(rows, reverse=True)[:30]:
        other = k[0] if mode == "callers" else k[1]
        print(f"{c // n:>9}  {calls[k] / n:6.1f} calls/request  {other[:140]}")


if __name__ == "__main__":
    main()
