"""`advisor bench`: measures the advisor side by side with Bolt's minimal app, on this machine."""
