"""Tests of the CI platforms: detection, the job's facts, log syntax, and the API calls over one HTTP client."""
