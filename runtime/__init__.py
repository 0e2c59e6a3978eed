"""lmteams runtime: agents, teams, topologies, task graphs, models, resilience, metrics and the CLI."""
