"""The JSON API, version 1 (/api/v1): scanners, judges' tablets, big screens and other systems."""
