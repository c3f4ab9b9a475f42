variable "name" {
  type = string
}

variable "with_key" {
  type    = bool
  default = false
}

resource "aws_iam_user" "this" {
  name = var.name
}

resource "aws_iam_user_login_profile" "this" {
  user = aws_iam_user.this.name
}

resource "aws_iam_access_key" "this" {
  count = var.with_key ? 1 : 0
  user  = aws_iam_user.this.name
}
