"""Views: tables, files and plots made from models and results. Views never compute physics."""
