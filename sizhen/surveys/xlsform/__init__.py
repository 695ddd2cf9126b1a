"""XLSForm in and out (decision 0010).

``read_xlsform(content, file_name)`` converts a workbook with pyxform (the rules of ODK and
KoboToolbox) and walks pyxform's JSON form of it into a ``FormData``; every refusal, pyxform's
or ours, is an ``XLSFormError`` whose messages are Chinese and name the row (``messages``).
Nothing is written there. ``write_xlsform(form)`` writes the survey, choices and settings
sheets with openpyxl."""

from sizhen.surveys.xlsform.common import LANGUAGE, MAX_BYTES, MAX_QUESTIONS, XLSFormError
from sizhen.surveys.xlsform.messages import translate_error
from sizhen.surveys.xlsform.reading import read_xlsform
from sizhen.surveys.xlsform.writing import write_xlsform

__all__ = [
    "LANGUAGE",
    "MAX_BYTES",
    "MAX_QUESTIONS",
    "XLSFormError",
    "read_xlsform",
    "translate_error",
    "write_xlsform",
]
