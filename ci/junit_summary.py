#!/usr/bin/env python3
"""Counts test results from JUnit XML reports (ctest --output-junit, Maven Surefire, the JUnit
console launcher) so that ci/test.sh can print one honest summary line.

usage: junit_summary.py STAGE_NAME LEDGER [--no-skips] [--min N] PATH...
  PATH        report files or directories (searched for *.xml)
  LEDGER      a file that gets one line "STAGE passed failed skipped" appended
  --no-skips  a skipped test counts as a failure (the VM stage: nothing may be skipped there)
  --min N     fewer than N test cases found is a failure (a stage that ran nothing proves nothing)
Exit status: 0 when no test failed (and the rules above hold), 1 otherwise.
"""
import os
import sys
import xml.etree.ElementTree as ET


def report_files(paths):
    for path in paths:
        if os.path.isdir(path):
            for root, _, files in os.walk(path):
                for name in sorted(files):
                    if name.endswith(".xml"):
                        yield os.path.join(root, name)
        elif os.path.isfile(path):
            yield path


def classify(case):
    """passed / failed / skipped for one <testcase>, across the three report dialects."""
    tags = {child.tag for child in case}
    if "failure" in tags or "error" in tags or case.get("status") == "fail":
        return "failed"
    if "skipped" in tags or case.get("status") in ("notrun", "disabled"):
        return "skipped"
    return "passed"


def main(argv):
    args = argv[1:]
    no_skips = "--no-skips" in args
    args = [a for a in args if a != "--no-skips"]
    minimum = 1
    if "--min" in args:
        i = args.index("--min")
        minimum = int(args[i + 1])
        del args[i:i + 2]
    if len(args) < 3:
        print(__doc__, file=sys.stderr)
        return 2
    stage, ledger, paths = args[0], args[1], args[2:]

    counts = {"passed": 0, "failed": 0, "skipped": 0}
    failed_names, skipped_names = [], []
    files = list(report_files(paths))
    for path in files:
        try:
            tree = ET.parse(path)
        except ET.ParseError as e:
            print(f"{stage}: unreadable report {path}: {e}")
            counts["failed"] += 1
            failed_names.append(f"<unreadable {os.path.basename(path)}>")
            continue
        for case in tree.iter("testcase"):
            kind = classify(case)
            counts[kind] += 1
            name = f"{case.get('classname', '')}.{case.get('name', '')}".strip(".")
            if kind == "failed":
                failed_names.append(name)
            elif kind == "skipped":
                skipped_names.append(name)

    total = sum(counts.values())
    problems = []
    if total < minimum:
        problems.append(f"expected at least {minimum} tests, found {total} in {len(files)} report(s)")
    if no_skips and counts["skipped"]:
        problems.append(f"{counts['skipped']} skipped where nothing may be skipped: " + ", ".join(skipped_names))
        counts["failed"] += counts["skipped"]
        counts["skipped"] = 0
    if problems:
        # a stage that ran too few tests is a failure of its own, counted once
        if total < minimum:
            counts["failed"] += 1

    print(f"{stage}: {counts['passed']} passed, {counts['failed']} failed, {counts['skipped']} skipped")
    for name in failed_names:
        print(f"{stage}:   FAILED {name}")
    for p in problems:
        print(f"{stage}:   {p}")
    with open(ledger, "a") as out:
        out.write(f"{stage} {counts['passed']} {counts['failed']} {counts['skipped']}\n")
    return 1 if counts["failed"] else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
