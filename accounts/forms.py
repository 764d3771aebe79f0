from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, PasswordField, StringField
from wtforms.validators import DataRequired, EqualTo, Length


class LoginForm(FlaskForm):
    login = StringField(_l("Phone or e-mail"), validators=[DataRequired(_l("Enter your phone or e-mail.")), Length(max=120)])
    password = PasswordField(_l("Password"), validators=[DataRequired(_l("Enter your password.")), Length(max=200)])
    next = HiddenField()


class PasswordChangeForm(FlaskForm):
    current_password = PasswordField(_l("Current password"), validators=[DataRequired(_l("Enter your current password.")), Length(max=200)])
    new_password = PasswordField(
        _l("New password"),
        validators=[DataRequired(_l("Enter a new password.")), Length(min=8, max=200, message=_l("Use 8 to 200 characters."))],
    )
    confirm = PasswordField(
        _l("Repeat the new password"),
        validators=[DataRequired(_l("Repeat the new password.")), EqualTo("new_password", message=_l("The two passwords differ."))],
    )


class ApiTokenCreateForm(FlaskForm):
    name = StringField(
        _l("Token name"),
        validators=[DataRequired(_l("Give the token a name.")), Length(max=80, message=_l("At most 80 characters."))],
        description=_l("For example “Door scanner 1” or “Big screen”."),
    )
