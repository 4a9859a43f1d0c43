#!/usr/bin/env python3
"""A process's CPU seconds so far (user + system, every thread): cpu.py PID"""
import os
import sys

fields = open(f"/proc/{sys.argv[1]}/stat").read().rsplit(")", 1)[1].split()
print((int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK"))
