"""A load client that talks to a server exactly as the csdesign document's client.py
does ("The client.py can be used with all the servers"), for Ferry's tests.

Written for Ferry, not copied: the document describes its client but does not print
it, and the published client.py stays out of this repository. What matters is
reproduced as it behaves: the same flags (-i HOST -p PORT -c CHILDREN -t CONNECTIONS
-b BYTES, defaults 5, 500, 3000); CHILDREN forked processes, each making CONNECTIONS
connections one after another; on each, the count sent as bare digits in one sendall
(no newline, no shutdown), then ONE recv(BYTES), failing unless exactly BYTES came;
"Child N is done" when a child has finished.

Two differences, to make failures visible to a test, neither changing what a server
sees: the parent exits 1 when a child failed (the original's parent exits 0 whatever
its children did; there a failure shows only as a traceback and a missing "Child N
is done"), and a connection gives up after 10 s (the original waits forever).
"""

import optparse
import os
import socket
import sys


def run_child(number, host, port, connections, count):
    socket.setdefaulttimeout(10)
    for _ in range(connections):
        with socket.create_connection((host, port)) as connection:
            connection.sendall(str(count).encode())
            answer = connection.recv(count)
            if len(answer) != count:
                raise Exception("Server returned only %d bytes" % len(answer))
    print("Child %d is done" % number, flush=True)


def main():
    parser = optparse.OptionParser()
    parser.add_option("-i", "--host", dest="host")
    parser.add_option("-p", "--port", dest="port", type="int")
    parser.add_option("-c", "--child-num", dest="children", type="int", default=5)
    parser.add_option("-t", "--con-num", dest="connections", type="int", default=500)
    parser.add_option("-b", "--bytes", dest="count", type="int", default=3000)
    options, _ = parser.parse_args()
    if not (options.host and options.port):
        parser.print_help()
        sys.exit(1)

    children = []
    for number in range(options.children):
        pid = os.fork()
        if pid == 0:
            status = 0
            try:
                run_child(number, options.host, options.port, options.connections, options.count)
            except Exception as error:
                print("child %d: %s" % (number, error), file=sys.stderr, flush=True)
                status = 1
            os._exit(status)
        children.append(pid)

    failed = 0
    for pid in children:
        _, status = os.waitpid(pid, 0)
        if status != 0:
            failed += 1
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
