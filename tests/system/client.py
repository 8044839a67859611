#!/usr/bin/env python3
"""client.py: the end-to-end test's TCP client for echod.

Owns: one client connection to 127.0.0.1:PORT and what it saw, printed as
"key value" lines for tests/system/e2e to read. Does not own: where it
runs (e2e runs it in the container's network namespace) or what counts as
a pass (e2e decides).

  client.py probe PORT   connect, read the greeting line, send one line,
                         read its echo, close. Exit 2 if refused.
  client.py hold PORT    connect and read the greeting line, then send each
                         line read from stdin and print its echo; close at
                         EOF. Lets e2e keep a client across a reload or stop.

Printed: "port N" (the client's own port, as echod logs it),
"greeting TEXT", "echo TEXT" (one per line sent).
"""
import socket
import sys

TIMEOUT = 10.0


def say(key, value):
    print("%s %s" % (key, value), flush=True)


def read_line(sock):
    """One line from sock without its newline; fails on EOF first."""
    data = b""
    while not data.endswith(b"\n"):
        chunk = sock.recv(1)
        if not chunk:
            raise ConnectionError("EOF after %r" % data)
        data += chunk
    return data[:-1].decode("utf-8", "replace")


def connect(port):
    """A connected socket with its greeting read and printed."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT)
    say("port", sock.getsockname()[1])
    say("greeting", read_line(sock))
    return sock


def echo(sock, text):
    sock.sendall(text.encode() + b"\n")
    say("echo", read_line(sock))


def main(argv):
    if len(argv) != 3 or argv[1] not in ("probe", "hold"):
        sys.stderr.write("usage: client.py probe|hold PORT\n")
        return 64
    try:
        sock = connect(int(argv[2]))
        if argv[1] == "probe":
            echo(sock, "hello from e2e")
        else:
            for line in iter(sys.stdin.readline, ""):
                echo(sock, line.rstrip("\n"))
        sock.close()
    except ConnectionRefusedError:
        say("refused", argv[2])
        return 2
    except (OSError, ValueError) as e:
        sys.stderr.write("client.py: %s\n" % e)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
