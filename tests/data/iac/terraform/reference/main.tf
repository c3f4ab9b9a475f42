# A console user made the common way: user, password and key in one apply.
resource "aws_iam_user" "alice" {
  name = "alice"
}

resource "aws_iam_user_login_profile" "alice" {
  user                    = aws_iam_user.alice.name
  password_reset_required = true
}

resource "aws_iam_access_key" "alice" {
  user = aws_iam_user.alice.id
}
