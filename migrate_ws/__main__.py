import sys

try:
    from .cli import main
except KeyboardInterrupt:  # interrupted while starting: nothing was written yet
    sys.stderr.write("migrate-ws: interrupted\n")
    sys.exit(130)

main()
