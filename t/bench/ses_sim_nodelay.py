#!/usr/bin/python3
"""Runs t/ses-sim/ses_sim.py unchanged except for two socket settings.

1. TCP_NODELAY.  The simulator writes a response's headers and body in two
   send() calls on a socket with Nagle's algorithm on.  On a kept-alive
   connection (libcurl reuses them) the body then waits for the client's
   delayed ACK: every SES call after the first on a connection takes ~40 ms
   on Linux, whatever the module does.
2. A listen backlog of 128 instead of socketserver's 5: a burst of new
   connections (both workers' curl pools filling up at once) otherwise
   overflows it, and the dropped SYNs are retried by the kernel after 1 s.

Real SES behaves like neither, so the benchmarks use this wrapper by
default (BENCH_SIM_NODELAY=0 runs the stock simulator); docs/performance.md
has the numbers for both.
"""

import os
import socketserver
import sys

# no __pycache__ inside t/ses-sim
sys.dont_write_bytecode = True

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "ses-sim"))

import ses_sim  # noqa: E402

# socketserver.StreamRequestHandler.setup() sets TCP_NODELAY when true
ses_sim.Handler.disable_nagle_algorithm = True

# the simulator's server class derives from TCPServer: listen(128)
socketserver.TCPServer.request_queue_size = 128

if __name__ == "__main__":
    sys.exit(ses_sim.main())
