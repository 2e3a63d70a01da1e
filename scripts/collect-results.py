#!/usr/bin/env python3
"""Turn a guest run's output into "pass NAME" / "fail NAME" lines.

- KUnit: every case of the project's suites (declared with kunit_suite! in
  drivers/) from the KTAP in the kernel log, once even if a module was
  loaded again (failed if any run failed); a suite that never reported
  fails. Suites of the kernel itself (Rust doctests) count once each.
- Integration scripts: every TAP "ok"/"not ok" line of OUT/tests/*.tap; a
  script that exited non-zero fails once more, one that printed no TAP fails.

With --scripts-only the KUnit part is skipped (a second guest of the same
run loads the same modules, whose suites the first guest already counted).
"""
import pathlib
import re
import sys

args = [a for a in sys.argv[1:] if a != "--scripts-only"]
scripts_only = len(args) != len(sys.argv) - 1
out = pathlib.Path(args[0])
top = pathlib.Path(args[1])
results = []

suite_decl = re.compile(r'kunit_suite!\(\s*\w+,\s*"([^"]+)"', re.S)
expected = set()
for rs in top.glob("drivers/**/*.rs"):
    expected.update(suite_decl.findall(rs.read_text()))

dmesg = out / "dmesg.txt"
log = dmesg.read_text(errors="replace").splitlines() if dmesg.exists() else []
if scripts_only:
    log, expected = [], set()
stamp = re.compile(r"^\[\s*[0-9.]+\]\s?")
suite = None
seen = set()
kunit = {}
for raw in log:
    line = stamp.sub("", raw)
    m = re.match(r"^\s*# Subtest: (\S+)", line)
    if m:
        suite = m.group(1)
        continue
    m = re.match(r"^(\s*)(not ok|ok) \d+ (\S+)(.*)$", line)
    if not m:
        continue
    indent, verdict, name, rest = m.groups()
    ok = verdict == "ok"
    skipped = "# SKIP" in rest
    if indent == "" or len(indent) < 4:
        # A suite's own result line.
        if name in expected:
            seen.add(name)
        elif name not in expected:
            results.append(("pass" if ok else "fail", f"kunit suite {name}"))
        suite = None
    elif suite in expected and len(indent) == 4 and not skipped:
        # A script that reloads a module runs its suites again: each case
        # counts once, failed if any run of it failed.
        case = f"kunit {suite}.{name}"
        kunit[case] = kunit.get(case, True) and ok

results.extend(("pass" if ok else "fail", case) for case, ok in kunit.items())
for name in sorted(expected - seen):
    results.append(("fail", f"kunit suite {name} did not run"))

for tap in sorted((out / "tests").glob("*.tap")):
    name = tap.stem
    count = 0
    for line in tap.read_text(errors="replace").splitlines():
        m = re.match(r"^(not ok|ok)\b\s*\d*\s*-?\s*(.*)$", line)
        if m:
            count += 1
            desc = m.group(2).strip()
            skip = "# SKIP" in desc
            if not skip:
                results.append(("pass" if m.group(1) == "ok" else "fail", f"{name}: {desc}"))
    rc_file = tap.with_suffix(".rc")
    rc = rc_file.read_text().strip() if rc_file.exists() else "missing"
    if rc != "0":
        results.append(("fail", f"{name}: script exited {rc}"))
    elif count == 0:
        results.append(("fail", f"{name}: printed no TAP results"))

for verdict, name in results:
    print(verdict, name)
