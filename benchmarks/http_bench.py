"""HTTP throughput: the inbound webhook and ``POST /v1/messages`` against a bare endpoint.

Two servers (three endpoints), one uvicorn worker each, measured in turn in the same
run with the same load tool (wrk, from Debian: ``apt-get install -y wrk``), for several
rounds: each ratio reported is the median of the rounds' ratios, since the machine's
speed drifts between runs:

* ``bare``: a Starlette app whose only route reads the request body and answers 200;
* ``webhook``: ``optline serve`` on SQLite, ``POST /webhooks/twilio`` (or
  ``/webhooks/generic``) with signed requests on a realistic mix (70% ordinary texts,
  30% keywords: opt-out, opt-in, help), every one with its own message id, so every
  request is classified and durably written (inbound message, consent change, ledger
  events, reply);
* ``messages``: the same server, ``POST /v1/messages`` (decision + record; the sender
  has no provider, so nothing leaves the machine).

The bare endpoint is hit with the same request bodies as each optline route. Targets:
webhook and /v1/messages each >= 30% of the bare endpoint's requests per second.
Signed requests are prebuilt here (Twilio signs the URL and the form parameters) and
cycled through by ``http_bench.lua``; the pool is sized from a warm-up run so that no
message id is repeated.

``--db URL`` runs optline on that database instead of a fresh SQLite file (a throwaway
one: its tables are dropped first); ``--stops`` makes every webhook a STOP from a number
that never texted before (each one a consent change of the one account) and measures
the webhook alone.

``--workers N`` runs optline with N uvicorn workers (the bare endpoint keeps one), to see
how a rate bound by one worker's CPU grows with more; the CPU per request then counts
every worker.

Run: ``python benchmarks/http_bench.py [--seconds 8] [--connections 16] [--rounds 5]``.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlencode

if TYPE_CHECKING:
    from starlette.applications import Starlette

HERE = Path(__file__).resolve().parent
LUA = HERE / "http_bench.lua"
TWILIO_SENDER = "+12025550100"
GENERIC_SENDER = "+12025550101"
SENDS_SENDER = "+12025550102"
AUTH_TOKEN = "bench-twilio-auth-token"
ACCOUNT_SID = "AC" + "0" * 32
GENERIC_SECRET = "bench-generic-secret"
TARGETS = {"webhook": 0.30, "messages": 0.30}

ORDINARY = (
    "Running 10 minutes late, sorry!",
    "Can I move my appointment to Thursday afternoon?",
    "Thanks, see you then",
    "What time do you open tomorrow?",
    "Is the parking lot behind the building?",
    "ok",
    "Got it 👍",
    "We have got to stop this bill from going up every month",
    "I'll stop by at 5 to pick it up",
    "please cancel my order from yesterday, it was a mistake",
    "Do you take insurance?",
    "Yes that works for me",
    "Can you send me the address again please",
    "¿Tienen citas el sábado?",
)
KEYWORDS = (
    "STOP",
    "Stop",
    "stop.",
    "STOP please",
    "UNSUBSCRIBE",
    "Cancel",
    "remove me from this list",
    "no more texts",
    "START",
    "UNSTOP",
    "HELP",
    "info",
)
OUTBOUND = (
    "Reminder: your appointment is tomorrow at 10:00. Reply C to confirm.",
    "Your order has shipped and will arrive on Friday.",
    "Hi! Your table is ready.",
    "Your prescription is ready for pickup.",
)


# -- request pools ------------------------------------------------------------------------


def contacts(count: int, seed: int = 7) -> list[str]:
    from optline.engine import phone

    rng = random.Random(seed)
    numbers: set[str] = set()
    while len(numbers) < count:
        area = rng.choice(("415", "617", "212", "312", "206", "303"))
        numbers.add(phone(f"+1{area}555{rng.randrange(1000, 10000):04d}"))
    return sorted(numbers)


def inbound_text(rng: random.Random) -> str:
    return rng.choice(KEYWORDS) if rng.random() < 0.30 else rng.choice(ORDINARY)


def fresh_numbers() -> Iterator[str]:
    """Numbers that no pool has used before, in turn."""
    for n in range(10_000_000):
        area = ("415", "617", "212", "312", "206", "303")[n % 6]
        yield f"+1{area}{200 + n // 60_000:03d}{n // 6 % 10_000:04d}"


def twilio_pool(
    url: str,
    prefix: str,
    size: int,
    phones: list[str],
    seed: int,
    stops_from: Iterator[str] | None = None,
) -> list[str]:
    """Signed Twilio form posts, one line each: ``<signature>\\t<form body>``; STOPs from
    ``stops_from``'s numbers, if given."""
    from twilio.request_validator import RequestValidator

    validator = RequestValidator(AUTH_TOKEN)
    rng = random.Random(seed)
    lines = []
    for n in range(size):
        sid = f"SM{prefix}{n:030d}"[:34]
        params = {
            "ToCountry": "US",
            "ToState": "DC",
            "SmsMessageSid": sid,
            "NumMedia": "0",
            "ToCity": "WASHINGTON",
            "FromZip": "94105",
            "SmsSid": sid,
            "FromState": "CA",
            "SmsStatus": "received",
            "FromCity": "SAN FRANCISCO",
            "Body": "STOP" if stops_from else inbound_text(rng),
            "FromCountry": "US",
            "To": TWILIO_SENDER,
            "ToZip": "20001",
            "NumSegments": "1",
            "MessageSid": sid,
            "AccountSid": ACCOUNT_SID,
            "From": next(stops_from) if stops_from else rng.choice(phones),
            "ApiVersion": "2010-04-01",
        }
        lines.append(f"{validator.compute_signature(url, params)}\t{urlencode(params)}")
    return lines


def generic_pool(prefix: str, size: int, phones: list[str], seed: int) -> list[str]:
    """Signed generic-webhook JSON posts, one line each: ``<signature>\\t<json body>``."""
    from optline.providers import signing

    rng = random.Random(seed)
    lines = []
    for n in range(size):
        body = json.dumps(
            {
                "id": f"{prefix}-{n}",
                "from": rng.choice(phones),
                "to": GENERIC_SENDER,
                "text": inbound_text(rng),
            },
            ensure_ascii=True,
        )
        lines.append(f"{signing.sign(GENERIC_SECRET, body.encode())}\t{body}")
    return lines


def messages_pool(size: int, phones: list[str], seed: int) -> list[str]:
    rng = random.Random(seed)
    return [
        "\t"
        + json.dumps(
            {"from": SENDS_SENDER, "to": rng.choice(phones), "body": rng.choice(OUTBOUND)},
            ensure_ascii=True,
        )
        for _ in range(size)
    ]


# -- servers ------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def wait_until_up(proc: subprocess.Popen[bytes], port: int, log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"server exited:\n{log.read_text()[-3000:]}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise SystemExit(f"server on port {port} did not come up")


@contextmanager
def running(command: list[str], port: int, log: Path, env: dict[str, str]) -> Iterator[int]:
    """The server ``command`` started and up on ``port``; its process id."""
    with log.open("ab") as out:
        proc = subprocess.Popen(
            command, stdout=out, stderr=subprocess.STDOUT, env=env, start_new_session=True
        )
    try:
        wait_until_up(proc, port, log)
        yield proc.pid
    finally:
        try:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=10)
        except ProcessLookupError:
            pass
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)


def bare_app() -> Starlette:
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import Response
    from starlette.routing import Route

    async def endpoint(request: Request) -> Response:
        await request.body()
        return Response("ok", media_type="text/plain")

    return Starlette(routes=[Route("/{path:path}", endpoint, methods=["POST"])])


def serve_bare(port: int) -> None:
    import uvicorn

    # As ``optline serve --workers 1`` runs its app.
    uvicorn.run(bare_app(), host="127.0.0.1", port=port, log_level="warning")


def prepare_database(url: str) -> str:
    """An account with a Twilio, a generic and a provider-less sender; its API key."""
    from optline.engine import Engine

    with Engine.open(url) as engine:
        # Sends to numbers never seen go out (the vendors' no_consent), so that the send
        # measured is an allowed one, as before no_consent refused them by default.
        overrides = {"no_consent": "allow", "support_contact": "x"}
        _, key = engine.create_account_with_key("bench", overrides=overrides)
        engine.add_sender(
            "bench",
            TWILIO_SENDER,
            provider="twilio",
            credentials={"account_sid": ACCOUNT_SID, "auth_token": AUTH_TOKEN},
        )
        engine.add_sender(
            "bench", GENERIC_SENDER, provider="generic", credentials={"secret": GENERIC_SECRET}
        )
        engine.add_sender("bench", SENDS_SENDER)
    return key


# -- load ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Load:
    path: str
    content_type: str
    var_header: str = ""
    fixed_header: str = ""


@dataclass(frozen=True)
class Result:
    name: str
    requests: int
    rps: float
    p50_ms: float
    p99_ms: float
    non_2xx: int
    socket_errors: int
    wraps: int
    cpu_ms: float = 0.0  # the server's CPU time per request


def cpu_seconds(pid: int) -> float:
    """The CPU time (user and system) the server started as ``pid`` has used so far, its
    workers' too (every process of its process group): a figure per request that the
    machine's other load changes far less than the rates."""
    ticks = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:  # the process ended meanwhile
            continue
        if int(fields[2]) == pid:
            ticks += int(fields[11]) + int(fields[12])
    return ticks / os.sysconf("SC_CLK_TCK")


def wrk(
    name: str, port: int, load: Load, lines: list[str], args: argparse.Namespace, seconds: float
) -> Result:
    with tempfile.NamedTemporaryFile("w", suffix=".tsv", delete=False) as pool:
        pool.write("\n".join(lines) + "\n")
    env = {
        **os.environ,
        "BENCH_FILE": pool.name,
        "BENCH_PATH": load.path,
        "BENCH_CONTENT_TYPE": load.content_type,
        "BENCH_VAR_HEADER": load.var_header,
        "BENCH_FIXED_HEADER": load.fixed_header,
        "BENCH_THREADS": str(args.threads),
    }
    command = [
        "wrk",
        f"-t{args.threads}",
        f"-c{args.connections}",
        f"-d{max(1, round(seconds))}s",
        "--timeout",
        "10s",
        "-s",
        str(LUA),
        f"http://127.0.0.1:{port}{load.path}",
    ]
    try:
        done = subprocess.run(
            command, env=env, capture_output=True, text=True, timeout=seconds + 60
        )
    finally:
        os.unlink(pool.name)
    summary = next(
        (json.loads(x) for x in done.stdout.splitlines() if x.startswith('{"bench"')), None
    )
    if done.returncode != 0 or summary is None:
        raise SystemExit(f"wrk failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    return Result(
        name,
        summary["requests"],
        summary["requests"] / (summary["duration_us"] / 1e6),
        summary["p50_us"] / 1000,
        summary["p99_us"] / 1000,
        summary["non_2xx"],
        summary["socket_errors"],
        summary["wraps"],
    )


def measure(
    name: str,
    server: tuple[int, int],
    load: Load,
    make_pool: Callable[[str, int], list[str]],
    args: argparse.Namespace,
    tag: str = "",
) -> Result:
    """A warm-up run (which also sizes the pool), then the measured run on fresh lines,
    against the server ``(port, pid)``; ``tag`` keeps each round's message ids apart
    from the other rounds'."""
    port, pid = server
    warm = wrk(name, port, load, make_pool(f"w{tag}", 2000), args, args.warmup)
    size = int(warm.rps * args.seconds * 1.5) + 1000
    lines = make_pool(f"m{tag}", size)
    before = cpu_seconds(pid)
    result = wrk(name, port, load, lines, args, args.seconds)
    used = cpu_seconds(pid) - before
    return replace(result, cpu_ms=used * 1000 / max(1, result.requests))


def count_inbound(url: str) -> int:
    import sqlalchemy as sa

    engine = sa.create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    try:
        with engine.connect() as conn:
            stmt = sa.text("SELECT count(*) FROM messages WHERE direction = 'in'")
            return int(conn.execute(stmt).scalar_one())
    finally:
        engine.dispose()


def empty_database(url: str) -> None:
    """Drop every table of the throwaway database at ``url`` (PostgreSQL: its public
    schema, made anew), so the run starts as on a fresh SQLite file."""
    import sqlalchemy as sa

    engine = sa.create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    try:
        with engine.begin() as conn:
            if engine.dialect.name == "postgresql":
                conn.execute(sa.text("DROP SCHEMA public CASCADE"))
                conn.execute(sa.text("CREATE SCHEMA public"))
            else:
                meta = sa.MetaData()
                meta.reflect(conn)
                meta.drop_all(conn)
    finally:
        engine.dispose()


def check_first(port: int, load: Load, line: str) -> None:
    """One request by hand: it must succeed, or the run would measure an error path."""
    import httpx

    header, body = line.split("\t", 1)
    headers = {"Content-Type": load.content_type}
    if load.var_header:
        headers[load.var_header] = header
    if load.fixed_header:
        name, value = load.fixed_header.split(":", 1)
        headers[name] = value.strip()
    response = httpx.post(
        f"http://127.0.0.1:{port}{load.path}", content=body, headers=headers, timeout=10
    )
    if response.status_code != 200:
        raise SystemExit(f"{load.path} answered {response.status_code}: {response.text}")


# -- main ---------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=8.0, help="per measured run")
    parser.add_argument("--warmup", type=float, default=2.0, help="per warm-up run")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--threads", type=int, default=1, help="wrk threads")
    parser.add_argument(
        "--rounds",
        type=int,
        default=5,
        help="rounds of bare and optline runs in turn; the ratios are their medians",
    )
    parser.add_argument("--webhook", choices=("twilio", "generic"), default="twilio")
    parser.add_argument("--contacts", type=int, default=2000)
    parser.add_argument(
        "--dir",
        type=Path,
        default=None,
        help="where the SQLite database goes (default: a temporary directory; a tmpfs "
        "such as /dev/shm takes the disk's fsync out of the figures)",
    )
    parser.add_argument(
        "--workers", type=int, default=1, help="optline's uvicorn workers (the bare one has 1)"
    )
    parser.add_argument("--db", help="a throwaway database's URL (default: a fresh SQLite file)")
    parser.add_argument(
        "--stops",
        action="store_true",
        help="every webhook a STOP from a new number; the webhook alone is measured",
    )
    parser.add_argument("--bare-server", type=int, metavar="PORT", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.bare_server:
        serve_bare(args.bare_server)
        return
    if shutil.which("wrk") is None:
        raise SystemExit("wrk not found: apt-get install -y wrk")

    root = Path(tempfile.mkdtemp(prefix="optline-http-bench-", dir=args.dir))
    try:
        run(args, root)
    finally:
        shutil.rmtree(root, ignore_errors=True)


def run(args: argparse.Namespace, root: Path) -> None:
    url = args.db or f"sqlite:///{root / 'bench.db'}"
    if args.db:
        empty_database(url)
    key = prepare_database(url)
    phones = contacts(args.contacts)
    env = {k: v for k, v in os.environ.items() if not k.startswith("OPTLINE_")}
    optline_port, bare_port = free_port(), free_port()
    base = f"http://127.0.0.1:{optline_port}"
    optline_env = {**env, "OPTLINE_PUBLIC_URL": base}
    optline = Path(sys.executable).with_name("optline")
    optline_cmd = [str(optline), "--db", url, "serve", "--port", str(optline_port)]
    optline_cmd += ["--workers", str(args.workers)]
    bare_cmd = [sys.executable, str(Path(__file__).resolve()), "--bare-server", str(bare_port)]

    if args.webhook == "twilio" or args.stops:
        hook = Load("/webhooks/twilio", "application/x-www-form-urlencoded", "X-Twilio-Signature")
        seq = iter(range(1_000_000))
        stops_from = fresh_numbers() if args.stops else None

        def hook_pool(prefix: str, size: int) -> list[str]:
            return twilio_pool(base + hook.path, prefix, size, phones, next(seq), stops_from)

    else:
        hook = Load("/webhooks/generic", "application/json", "X-Optline-Signature")
        seq = iter(range(1_000_000))

        def hook_pool(prefix: str, size: int) -> list[str]:
            return generic_pool(prefix, size, phones, next(seq))

    send = Load("/v1/messages", "application/json", fixed_header=f"Authorization: Bearer {key}")

    def send_pool(prefix: str, size: int) -> list[str]:
        return messages_pool(size, phones, 1 if prefix.startswith("w") else 2)

    database = url.split(":", 1)[0].split("+")[0]
    print(
        f"wrk -t{args.threads} -c{args.connections}, {args.seconds:g} s per run "
        f"(after {args.warmup:g} s warm-up), {args.workers} uvicorn worker(s) for optline, "
        f"1 for the bare endpoint, {database} "
        f"({len(phones)} contacts), {args.rounds} rounds, bare and optline in turn"
        + (", every webhook a STOP from a new number" if args.stops else ""),
        flush=True,
    )
    webhook_name = "twilio STOPs" if args.stops else f"{args.webhook} webhook"
    rounds: list[dict[str, Result]] = []
    stored = 0
    with (
        running(bare_cmd, bare_port, root / "bare.log", env) as bare_pid,
        running(optline_cmd, optline_port, root / "optline.log", optline_env) as optline_pid,
    ):
        bare, optline_server = (bare_port, bare_pid), (optline_port, optline_pid)
        check_first(optline_port, hook, hook_pool("check", 1)[0])
        check_first(optline_port, send, send_pool("check", 1)[0])
        for n in range(args.rounds):
            tag = str(n)
            results = {"bare (webhook bodies)": measure("bare", bare, hook, hook_pool, args, tag)}
            before = count_inbound(url)
            results[webhook_name] = measure("webhook", optline_server, hook, hook_pool, args, tag)
            stored += count_inbound(url) - before
            if not args.stops:
                results["bare (message bodies)"] = measure("bare", bare, send, send_pool, args, tag)
                results["POST /v1/messages"] = measure(
                    "messages", optline_server, send, send_pool, args, tag
                )
            rounds.append(results)

    print(
        f"{'round':<6} {'endpoint':<24} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'errors':>7}"
        f" {'server CPU ms/req':>18}"
    )
    for n, results in enumerate(rounds, start=1):
        for name, r in results.items():
            errors = r.non_2xx + r.socket_errors
            print(
                f"{n:<6} {name:<24} {r.rps:>9.0f} {r.p50_ms:>8.2f} {r.p99_ms:>8.2f} {errors:>7}"
                f" {r.cpu_ms:>18.2f}"
            )
            if r.wraps and name == webhook_name:
                print(f"  warning: the request pool wrapped {r.wraps} times (repeated ids)")
    print(f"inbound texts stored during the webhook runs: {stored}")
    pairs = [(webhook_name, webhook_name, "bare (webhook bodies)", TARGETS["webhook"])]
    if not args.stops:
        pairs.append(
            ("messages", "POST /v1/messages", "bare (message bodies)", TARGETS["messages"])
        )
    for name, ours, bare, target in pairs:
        ratios = [r[ours].rps / r[bare].rps for r in rounds]
        ratio = statistics.median(ratios)
        verdict = "ok" if ratio >= target else "MISSED"
        each = ", ".join(f"{x:.1%}" for x in ratios)
        print(
            f"{name}: {ratio:.1%} of the bare endpoint (target {target:.0%}) {verdict}, "
            f"median of {len(ratios)} round{'s' * (len(ratios) != 1)}: {each}"
        )


if __name__ == "__main__":
    main()
