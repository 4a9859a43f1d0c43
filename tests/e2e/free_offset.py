"""Print a port offset whose every Hippodrome port (dashboard..index servers) is free."""
import random
import socket

PORTS = list(range(9000, 9020)) + list(range(9100, 9200))


def free(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
            return True
        except OSError:
            return False


for _ in range(200):
    # Below the kernel's ephemeral range (32768+), so no outgoing connection can take a stack port.
    offset = random.randrange(10000, 23000, 10)
    if all(free(p + offset) for p in PORTS):
        print(offset)
        break
else:
    raise SystemExit("no free port offset found")
