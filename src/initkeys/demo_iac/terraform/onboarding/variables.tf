# Whether dave gets a key is decided at apply time (-var, TF_VAR_with_key): a scanner
# cannot know, so initkeys names the variable that decides instead of guessing.
variable "with_key" {
  description = "Give dave an access key for the reporting scripts."
  type        = bool
}

resource "aws_iam_user" "dave" {
  name = "dave"
  path = "/staff/"
}

resource "aws_iam_user_login_profile" "dave" {
  user                    = aws_iam_user.dave.name
  password_reset_required = true
}

resource "aws_iam_access_key" "dave" {
  count = var.with_key ? 1 : 0
  user  = aws_iam_user.dave.name
}
