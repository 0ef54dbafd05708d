"""What every feature stands on: client addresses, rate limits, phone masking, and (as the
features move onto it) area codes, roles, the actor's territory, errors and event types."""
