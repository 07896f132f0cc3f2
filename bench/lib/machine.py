"""What a result was measured on, for the record of every bench script: the CPU, the
kernel, the load average, and the ferry commit."""

import os
import platform
import subprocess


def machine():
    cpu = "unknown CPU"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    return {"cpu": cpu, "cpus": os.cpu_count(), "kernel": platform.release()}


def load_average():
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


def ferry_version(repo):
    result = subprocess.run(["git", "-C", repo, "describe", "--always", "--dirty"],
                            capture_output=True, text=True)
    return f"ferry {result.stdout.strip()}" if result.returncode == 0 else "ferry"
