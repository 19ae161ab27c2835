"""Synthetic LMS + CRM datasets with identity mess and a ground-truth file.

generate(out, learners, seed, rates=None, as_of=None) -> Manifest
"""

from sandbox.generator.catalog import COURSES, PRODUCTS, Course
from sandbox.generator.generate import Manifest, generate
from sandbox.generator.rates import MessRates

__all__ = ["COURSES", "PRODUCTS", "Course", "Manifest", "MessRates", "generate"]
