"""Renderers: turn model objects into text, json, csv, markdown, html, pdf. They never parse."""
