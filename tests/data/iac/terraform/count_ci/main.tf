variable "ci" {
  description = "Create a key for the CI pipeline."
  type        = bool
}

resource "aws_iam_user" "dave" {
  name = "dave"
}

resource "aws_iam_user_login_profile" "dave" {
  user = aws_iam_user.dave.name
}

resource "aws_iam_access_key" "ci" {
  count = var.ci ? 1 : 0
  user  = aws_iam_user.dave.name
}
