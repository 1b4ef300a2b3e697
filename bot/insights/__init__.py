"""What the advisor keeps of its use, for the knowledge base's owner: events, votes, reports."""
