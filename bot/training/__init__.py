"""Development-only: train and compare matchers. Imports scikit-learn; never loaded at run time."""
