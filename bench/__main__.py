"""`python -m bench [booking|booking-instructions|capacity|server-settings|records|waitlist] [options]`: the benchmarks.

docs/performance.md explains each.

Without arguments it runs the booking benchmark at both sizes with its defaults, which is what
`make bench` does.
"""
import sys


def main(argv: list[str]) -> None:
    name, rest = (argv[0], argv[1:]) if argv and not argv[0].startswith("-") else ("booking", argv)
    if name == "booking":
        from bench.booking import run

        run.main(rest)
    elif name == "booking-generate":
        from bench.booking import generate

        generate.main(rest)
    elif name == "booking-explain":
        from bench.booking import explain

        explain.main(rest)
    elif name == "booking-instructions":
        from bench.booking import instructions

        instructions.main(rest)
    elif name == "booking-profile":
        from bench.booking import profile

        profile.main(rest)
    elif name == "capacity":
        from bench.capacity import run

        run.main(rest)
    elif name == "server-settings":
        from bench.capacity import settings

        settings.main(rest)
    elif name == "image-bombs":
        from bench import image_bombs

        image_bombs.main(rest)
    elif name == "records":
        from bench.records import run

        run.main(rest)
    elif name == "waitlist":
        from bench import waitlist

        waitlist.main(rest)
    elif name == "records-generate":
        from bench.records import generate

        generate.main(rest)
    else:
        raise SystemExit(f"unknown benchmark {name!r}; known: booking, booking-generate, booking-explain, "
                         "booking-instructions, booking-profile, "
                         "capacity, server-settings, image-bombs, records, records-generate, waitlist")


if __name__ == "__main__":
    main(sys.argv[1:])
