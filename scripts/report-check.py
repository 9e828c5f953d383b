#!/usr/bin/env python3
"""Checks a seller report as headless Chromium rendered it: the screenshot is not blank (enough
non-white pixels and distinct colours, the chart's bar colours among them), and every order row of
the report (report.json) is in the DOM Chromium dumped, once, and no other. Prints the figures.

usage: report-check.py SCREENSHOT.png DOM.html REPORT.json   (exit 1 with what is wrong)
       report-check.py --self-test                           (shows the checks catch a blank page
                                                              and a missing row)
"""
import json
import re
import struct
import sys
import zlib

# The chart's fills (seller_report.rs): cases opened, messages sent.
BAR_COLOURS = {(0x3B, 0x6F, 0xB6): "cases-opened blue", (0x7F, 0xB3, 0xAB): "messages teal"}


def decode_png(data):
    """(width, height, rows of (r, g, b) tuples) of an 8-bit RGB or RGBA, non-interlaced PNG."""
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError("not a PNG file")
    pos, idat, header = 8, b"", None
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos:pos + 4])
        kind = data[pos + 4:pos + 8]
        body = data[pos + 8:pos + 8 + length]
        pos += 12 + length
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat += body
        elif kind == b"IEND":
            break
    if header is None:
        raise ValueError("no IHDR chunk")
    width, height, depth, colour, _, _, interlace = header
    if depth != 8 or colour not in (2, 6) or interlace != 0:
        raise ValueError(f"unsupported PNG: depth {depth}, colour type {colour}, "
                         f"interlace {interlace}")
    bpp = 3 if colour == 2 else 4
    raw = zlib.decompress(idat)
    stride = width * bpp
    rows, prev = [], bytearray(stride)
    for y in range(height):
        start = y * (stride + 1)
        kind, line = raw[start], bytearray(raw[start + 1:start + 1 + stride])
        for i in range(stride):
            a = line[i - bpp] if i >= bpp else 0
            b = prev[i]
            c = prev[i - bpp] if i >= bpp else 0
            if kind == 1:
                line[i] = (line[i] + a) & 0xFF
            elif kind == 2:
                line[i] = (line[i] + b) & 0xFF
            elif kind == 3:
                line[i] = (line[i] + (a + b) // 2) & 0xFF
            elif kind == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 0xFF
            elif kind != 0:
                raise ValueError(f"unknown PNG filter {kind} in row {y}")
        rows.append([tuple(line[x * bpp:x * bpp + 3]) for x in range(width)])
        prev = line
    return width, height, rows


def check_screenshot(png):
    """Problems with the screenshot (none: it shows a page with a chart) and what it shows."""
    width, height, rows = decode_png(png)
    colours, non_white, total = {}, 0, 0
    for row in rows[::2]:
        for px in row[::2]:
            total += 1
            colours[px] = colours.get(px, 0) + 1
            if px != (255, 255, 255):
                non_white += 1
    share = non_white / max(total, 1)
    problems = []
    if len(colours) < 16:
        problems.append(f"only {len(colours)} distinct colours: the page looks blank")
    if share < 0.02:
        problems.append(f"only {share:.1%} of the pixels are not white: the page looks blank")
    for rgb, name in BAR_COLOURS.items():
        if colours.get(rgb, 0) < 20:
            problems.append(f"no {name} bar in the screenshot: the chart did not render")
    seen = f"{width}x{height}, {len(colours)} colours, {share:.1%} not white"
    return problems, seen


def check_dom(dom, report):
    """Problems with the dumped DOM against the report's rows."""
    found = re.findall(r'<tr\b[^>]*\bdata-order="([^"]*)"', dom)
    want = [r["order_id"] for r in report["rows"]]
    problems = []
    for order in want:
        if found.count(order) != 1:
            problems.append(f"order {order} is in the DOM {found.count(order)} times, not once")
    for order in sorted(set(found) - set(want)):
        problems.append(f"order {order} is in the DOM but not in the report")
    if "<svg" not in dom:
        problems.append("no <svg> chart in the DOM")
    return problems


def png(width, height, pixel):
    """A PNG of `pixel(x, y) -> (r, g, b)` (for the self-test)."""
    raw = b"".join(b"\x00" + bytes(c for x in range(width) for c in pixel(x, y))
                   for y in range(height))
    chunk = lambda kind, body: (struct.pack(">I", len(body)) + kind + body
                                + struct.pack(">I", zlib.crc32(kind + body)))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def self_test():
    blank = png(64, 64, lambda x, y: (255, 255, 255))
    assert check_screenshot(blank)[0], "a blank page must fail"
    bars = list(BAR_COLOURS)
    busy = png(64, 64, lambda x, y: bars[0] if x < 16 else bars[1] if x < 32
               else ((x * 7) % 256, (y * 5) % 256, 128))
    problems, _ = check_screenshot(busy)
    assert not problems, problems
    report = {"rows": [{"order_id": "503-1"}, {"order_id": "503-2"}]}
    dom = '<svg></svg><tr data-order="503-1"><td>1</td></tr><tr data-order="503-2"></tr>'
    assert not check_dom(dom, report)
    assert check_dom(dom.replace('data-order="503-2"', ""), report), "a missing row must fail"
    assert check_dom(dom + '<tr data-order="503-1">', report), "a row twice must fail"
    print("report-check.py self-test: a blank page, a missing and a doubled row are caught")


def main():
    if sys.argv[1:] == ["--self-test"]:
        self_test()
        return
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    shot, dom_path, report_path = sys.argv[1:]
    report = json.load(open(report_path, encoding="utf-8"))
    problems, seen = check_screenshot(open(shot, "rb").read())
    problems += check_dom(open(dom_path, encoding="utf-8").read(), report)
    t = report["totals"]
    rate = "n/a" if t["rate_percent"] is None else f"{t['rate_percent']:.2f}%"
    print(f"  screenshot {shot}: {seen}")
    print(f"  rows {len(report['rows'])}: orders {t['orders']}, cases {t['cases']}, messages sent "
          f"{t['messages_sent']}, cancels counted {t['cancels_counted']}, exempt "
          f"{t['cancels_exempt']}, closed {t['closed']}, open {t['open']}; cancel rate {rate} "
          f"(target under {t['target_percent']}%)")
    if problems:
        print("report check failed:\n  " + "\n  ".join(problems), file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
