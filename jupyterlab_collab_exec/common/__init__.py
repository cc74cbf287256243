"""What every layer shares: the service's errors, and background work nobody awaits."""
