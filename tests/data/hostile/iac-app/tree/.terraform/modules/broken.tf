resource "aws_iam_user" {{{
