"""Image bombs against a live server: does /healthz keep answering while three arrive at once?

    .venv/bin/python -m bench image-bombs [--format webp|png|both] [--side 9400] [--max-pixels N]
                                          [--probe-seconds 10]

A decompression bomb is a tiny file claiming a huge canvas (9400×9400: a 34-byte lossless WebP, a
344 KB RGBA PNG). Before the pixel budget each upload held a worker for seconds and a gigabyte, and
three at once stopped /healthz. This starts the app under gunicorn as the booking bench does
(production settings, its own small clinic), measures /healthz alone (its normal p99), then probes it
again, one request after another, while three patients PUT a bomb to /api/v1/me/picture at the same
moment. `--max-pixels` sets MAX_IMAGE_PIXELS for the server, e.g. 100000000 to see the cost the budget
saves; `--side 5000` sends the largest images the default budget still accepts. The report
(bench/out/image-bombs-<timestamp>.md) says how long /healthz was slower than its normal p99 while
the bombs were in, and what each upload got.
"""
import argparse
import statistics
import threading
import time
from datetime import datetime
from io import BytesIO
from pathlib import Path

import requests
from PIL import Image

from bench.booking import generate
from bench.booking.server import Server, server_settings

OUT = generate.ROOT / "bench" / "out"
DBNAME = "clinic_bench_images"
SIDE = 9400
UPLOADS = 3
PAUSE = 0.02  # between probes: /healthz is asked about 40 times a second, one request at a time
BOMBS = {  # name -> (mode, format, save options)
    "webp": ("RGB", "WEBP", {"lossless": True, "method": 0, "quality": 0}),
    "png": ("RGBA", "PNG", {}),
}


class BudgetServer(Server):
    """The bench's gunicorn server, with MAX_IMAGE_PIXELS of the run's choosing."""

    def __init__(self, max_pixels: int | None, log_path: Path):
        super().__init__("small", DBNAME, log_path)
        self.max_pixels = max_pixels

    def env(self) -> dict[str, str]:
        extra = {"MAX_IMAGE_PIXELS": str(self.max_pixels)} if self.max_pixels else {}
        return {**super().env(), **extra}


def bomb(name: str, side: int) -> bytes:
    mode, fmt, options = BOMBS[name]
    out = BytesIO()
    Image.new(mode, (side, side)).save(out, fmt, **options)
    return out.getvalue()


def probe_healthz(base_url: str, stop: threading.Event, seconds: float | None = None) -> list[float]:
    """Latencies (ms) of /healthz asked one request after another, until `stop` or `seconds`."""
    latencies: list[float] = []
    end = time.monotonic() + seconds if seconds else None
    with requests.Session() as session:
        while not stop.is_set() and (end is None or time.monotonic() < end):
            started = time.perf_counter()
            try:
                session.get(f"{base_url}/healthz", timeout=120)
            except requests.RequestException:
                pass  # a refused or timed-out probe counts with the time it took
            latencies.append((time.perf_counter() - started) * 1000)
            time.sleep(PAUSE)
    return latencies


def p99(values: list[float]) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[98] if len(values) >= 2 else values[0]


def upload(base_url: str, token: str, data: bytes, name: str, results: list, barrier: threading.Barrier) -> None:
    barrier.wait()
    started = time.perf_counter()
    try:
        answer = requests.put(f"{base_url}/api/v1/me/picture", headers={"Authorization": f"Bearer {token}"},
                              files={"file": (f"bomb.{name}", data)}, timeout=300)
        outcome = f"{answer.status_code} {answer.json().get('error', {}).get('code', '')}".strip()
    except (requests.RequestException, ValueError) as error:
        outcome = type(error).__name__
    results.append((outcome, time.perf_counter() - started))


def scenario(server: Server, tokens: list[str], name: str, side: int, normal_p99: float) -> dict:
    data = bomb(name, side)
    stop = threading.Event()
    probes: list[float] = []
    prober = threading.Thread(target=lambda: probes.extend(probe_healthz(server.base_url, stop)))
    results: list = []
    barrier = threading.Barrier(UPLOADS)
    uploaders = [threading.Thread(target=upload, args=(server.base_url, token, data, name, results, barrier))
                 for token in tokens]
    prober.start()
    started = time.perf_counter()
    for thread in uploaders:
        thread.start()
    for thread in uploaders:
        thread.join()
    elapsed = time.perf_counter() - started
    time.sleep(1)  # a second of quiet after the last upload, so a slow probe in flight is counted
    stop.set()
    prober.join()
    return {"name": name, "bytes": len(data), "uploads": sorted(results), "seconds": elapsed,
            "probes": len(probes), "p99": p99(probes), "max": max(probes),
            "over_ms": sum(max(0.0, value - normal_p99) for value in probes)}


def render(runs: list[dict], normal: list[float], max_pixels: int | None, side: int) -> str:
    budget = f"{max_pixels:,}" if max_pixels else "the default (25,000,000)"
    lines = [f"# Image bombs: three parallel uploads against /healthz ({datetime.now():%Y-%m-%d %H:%M})", "",
             f"gunicorn {server_settings()}, MAX_IMAGE_PIXELS {budget}; images of {side}×{side} pixels.",
             f"/healthz alone: {len(normal)} probes, p50 {statistics.median(normal):.1f} ms, "
             f"p99 {p99(normal):.1f} ms, max {max(normal):.1f} ms.", "",
             "| bomb | size | uploads (answer, seconds) | all three done | /healthz probes | p99 | max | "
             "time beyond normal p99 |", "|---|--:|---|--:|--:|--:|--:|--:|"]
    for run in runs:
        uploads = ", ".join(f"{outcome} {seconds:.2f} s" for outcome, seconds in run["uploads"])
        lines.append(f"| {run['name']} | {run['bytes']:,} B | {uploads} | {run['seconds']:.2f} s | {run['probes']} | "
                     f"{run['p99']:.1f} ms | {run['max']:.1f} ms | {run['over_ms'] / 1000:.2f} s |")
    return "\n".join(lines) + "\n"


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench image-bombs")
    parser.add_argument("--format", choices=[*BOMBS, "both"], default="both")
    parser.add_argument("--side", type=int, default=SIDE, help="width and height of the images sent")
    parser.add_argument("--max-pixels", type=int, default=None, help="MAX_IMAGE_PIXELS for the server")
    parser.add_argument("--probe-seconds", type=float, default=10, help="how long /healthz is measured alone")
    args = parser.parse_args(argv)
    generate.generate("small", DBNAME)
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    with BudgetServer(args.max_pixels, OUT / f"work-{stamp}" / "images" / "gunicorn.log") as server:
        tokens = list(server.tokens([f"bench.p{n}" for n in range(1, UPLOADS + 1)]).values())
        normal = probe_healthz(server.base_url, threading.Event(), args.probe_seconds)
        names = list(BOMBS) if args.format == "both" else [args.format]
        runs = [scenario(server, tokens, name, args.side, p99(normal)) for name in names]
    text = render(runs, normal, args.max_pixels, args.side)
    OUT.mkdir(parents=True, exist_ok=True)
    target = OUT / f"image-bombs-{stamp}.md"
    target.write_text(text)
    print("\n" + text + f"\n(written to {target.relative_to(generate.ROOT)})", flush=True)
